//! The `Store` and `StoreAdmin` traits on PostgreSQL: each method is the inherent method of
//! the same name (one transaction, in its own file); reads of the event logs and of the
//! outbox first number what this node committed (`catch_up.rs`).

use super::PgStore;
use crate::crypto::Keyring;
use crate::order::{Effect, Order, OrderStatus};
use crate::store::dump::{DumpPage, DumpRow, DumpTable};
use crate::store::*;
use adapters::hlr::BoxFuture;
use sim_profiles::Iccid;

impl Store for PgStore {
    fn create_activation(
        &self,
        new: NewActivation,
    ) -> BoxFuture<'_, Result<CreateOutcome, StoreError>> {
        Box::pin(PgStore::create_activation(self, new))
    }

    fn advance_order(
        &self,
        order: Order,
        effect: Effect,
        event: EventKind,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(PgStore::advance_order(self, order, effect, event))
    }

    fn create_lifecycle(
        &self,
        new: NewLifecycle,
    ) -> BoxFuture<'_, Result<LifecycleOutcome, StoreError>> {
        Box::pin(PgStore::create_lifecycle(self, new))
    }

    fn subscription<'a>(
        &'a self,
        tenant: &'a str,
        msisdn: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subscription>, StoreError>> {
        Box::pin(PgStore::subscription(self, tenant, msisdn))
    }

    fn subscriptions<'a>(
        &'a self,
        tenant: &'a str,
        query: &'a SubscriptionQuery,
    ) -> BoxFuture<'a, Result<SubscriptionPage, StoreError>> {
        Box::pin(PgStore::subscriptions(self, tenant, query))
    }

    fn get_order<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Order>, StoreError>> {
        Box::pin(PgStore::get_order(self, tenant, id))
    }

    fn activation_idempotency<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<IdempotencyRecord>, StoreError>> {
        Box::pin(PgStore::activation_idempotency(self, tenant, key))
    }

    fn inflight_orders(&self) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(PgStore::inflight_orders(self))
    }

    fn lease(&self) -> Option<std::time::Duration> {
        PgStore::lease(self)
    }

    fn claim_orders(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(PgStore::claim_orders(self, now_ms, limit))
    }

    fn renew_leases<'a>(
        &'a self,
        ids: &'a [String],
        now_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(PgStore::renew_leases(self, ids, now_ms))
    }

    fn get_sim<'a>(
        &'a self,
        iccid: &'a Iccid,
    ) -> BoxFuture<'a, Result<Option<SimRecord>, StoreError>> {
        Box::pin(PgStore::get_sim(self, iccid))
    }

    fn api_key<'a>(
        &'a self,
        hash: &'a [u8; 32],
    ) -> BoxFuture<'a, Result<Option<ApiKeyRecord>, StoreError>> {
        Box::pin(PgStore::api_key(self, hash))
    }

    fn tenant<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Tenant>, StoreError>> {
        Box::pin(PgStore::tenant(self, id))
    }

    fn events(&self, from: u64, limit: usize) -> BoxFuture<'_, Result<Vec<Event>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::events(self, from, limit).await
        })
    }

    fn inventory_counts<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<InventoryCounts, StoreError>> {
        Box::pin(PgStore::inventory_counts(self, tenant))
    }

    fn admin(&self, change: AdminChange) -> BoxFuture<'_, Result<AdminOutcome, StoreError>> {
        Box::pin(PgStore::admin(self, change))
    }

    fn prune_idempotency(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(PgStore::prune_idempotency(self, before_ms))
    }

    fn meta<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(PgStore::meta(self, key))
    }

    fn create_reservation(
        &self,
        new: NewReservation,
    ) -> BoxFuture<'_, Result<ReservationOutcome, StoreError>> {
        Box::pin(PgStore::create_reservation(self, new))
    }

    fn get_reservation<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Reservation>, StoreError>> {
        Box::pin(PgStore::get_reservation(self, tenant, id))
    }

    fn batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<BatchRecord>, StoreError>> {
        Box::pin(PgStore::batch(self, id))
    }

    fn import_begin<'a>(
        &'a self,
        batch: &'a BatchRecord,
    ) -> BoxFuture<'a, Result<ImportStart, StoreError>> {
        Box::pin(PgStore::import_begin(self, batch))
    }

    fn import_chunk<'a>(
        &'a self,
        batch_id: &'a str,
        sims: &'a [(SimRecord, usize)],
    ) -> BoxFuture<'a, Result<Vec<(usize, Clash)>, StoreError>> {
        Box::pin(PgStore::import_chunk(self, batch_id, sims))
    }

    fn import_finish<'a>(
        &'a self,
        batch_id: &'a str,
        cards: u64,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<BatchRecord, StoreError>> {
        Box::pin(PgStore::import_finish(self, batch_id, cards, now_ms))
    }

    fn import_abort<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(PgStore::import_abort(self, batch_id))
    }

    fn recover_imports(&self) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(PgStore::recover_imports(self))
    }

    fn batch_sims<'a>(
        &'a self,
        batch_id: &'a str,
        after: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SimRecord>, StoreError>> {
        Box::pin(PgStore::batch_sims(self, batch_id, after, limit))
    }

    fn sim_by_imsi<'a>(
        &'a self,
        imsi: &'a sim_profiles::Imsi,
    ) -> BoxFuture<'a, Result<Option<SimRecord>, StoreError>> {
        Box::pin(PgStore::sim_by_imsi(self, imsi))
    }

    fn quarantined<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<(sim_profiles::Msisdn, u64)>, StoreError>> {
        Box::pin(PgStore::quarantined(self, tenant, limit))
    }

    fn inventory_breakdown<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Breakdown, StoreError>> {
        Box::pin(PgStore::inventory_breakdown(self, tenant))
    }

    fn tenant_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(PgStore::tenant_ids(self))
    }

    fn backend_status(&self) -> BoxFuture<'_, Option<BackendStatus>> {
        Box::pin(async { Some(PgStore::backend_status(self).await) })
    }

    fn next_pool_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(PgStore::next_pool_deadline(self))
    }

    fn expire_due(&self, now_ms: u64) -> BoxFuture<'_, Result<Expired, StoreError>> {
        Box::pin(PgStore::expire_due(self, now_ms))
    }

    fn quarantine_number(
        &self,
        tenant: &str,
        msisdn: &sim_profiles::Msisdn,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let (tenant, msisdn) = (tenant.to_owned(), msisdn.clone());
        Box::pin(async move { PgStore::quarantine_number(self, &tenant, &msisdn, now_ms).await })
    }

    fn release_reservation<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(PgStore::release_reservation(self, tenant, id, now_ms))
    }

    fn free_numbers<'a>(
        &'a self,
        tenant: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<(sim_profiles::Msisdn, NumberClass)>, StoreError>> {
        Box::pin(PgStore::free_numbers(self, tenant, after, limit))
    }

    fn release_quarantine(
        &self,
        tenant: &str,
        msisdn: &sim_profiles::Msisdn,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let (tenant, msisdn) = (tenant.to_owned(), msisdn.clone());
        Box::pin(async move { PgStore::release_quarantine(self, &tenant, &msisdn).await })
    }

    fn record_notification(
        &self,
        n: NotificationIn,
    ) -> BoxFuture<'_, Result<NotificationOutcome, StoreError>> {
        Box::pin(PgStore::record_notification(self, n))
    }

    fn esim_progress<'a>(
        &'a self,
        order_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<EsimProgress>, StoreError>> {
        Box::pin(PgStore::esim_progress(self, order_id))
    }

    fn next_esim_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(PgStore::next_esim_deadline(self))
    }

    fn expire_esim(
        &self,
        now_ms: u64,
        reopen: Reopen,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(PgStore::expire_esim(self, now_ms, reopen))
    }
}

impl StoreAdmin for PgStore {
    fn rewrap<'a>(
        &'a self,
        keys: &'a Keyring,
        chunk: usize,
        max_chunks: Option<u64>,
    ) -> BoxFuture<'a, Result<RewrapReport, StoreError>> {
        Box::pin(PgStore::rewrap(self, keys, chunk, max_chunks))
    }

    fn sealed_key_usage(
        &self,
    ) -> BoxFuture<'_, Result<std::collections::BTreeMap<String, u64>, StoreError>> {
        Box::pin(PgStore::sealed_key_usage(self))
    }

    fn number_block<'a>(
        &'a self,
        msisdn: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(PgStore::number_block(self, msisdn))
    }

    fn available_sims<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Iccid>, StoreError>> {
        Box::pin(PgStore::available_sims(self, tenant, limit))
    }

    fn orders_with_status<'a>(
        &'a self,
        tenant: &'a str,
        status: OrderStatus,
    ) -> BoxFuture<'a, Result<Vec<Order>, StoreError>> {
        Box::pin(PgStore::orders_with_status(self, tenant, status))
    }

    fn event_count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::event_count(self).await
        })
    }

    fn dump_page<'a>(
        &'a self,
        table: DumpTable,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<DumpPage, StoreError>> {
        Box::pin(PgStore::dump_page(self, table, cursor, limit))
    }

    fn load_rows<'a>(
        &'a self,
        table: DumpTable,
        rows: &'a [DumpRow],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(PgStore::load_rows(self, table, rows))
    }

    fn finish_load(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(PgStore::finish_load(self))
    }

    fn publish_for_test<'a>(
        &'a self,
        now_ms: u64,
        tenant: &'a str,
        event_type: EventType,
        subject: Option<&'a str>,
        data: serde_json::Value,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(PgStore::publish_for_test(
            self, now_ms, tenant, event_type, subject, data,
        ))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(PgStore::close(self))
    }
}
