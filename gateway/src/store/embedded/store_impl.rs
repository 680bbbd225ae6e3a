//! The `Store` trait on redb: each write method queues one command for the group-commit
//! writer and answers once it is durable; each read runs in its own snapshot.

use super::writer::{PoolCommand, PoolReply};
use super::*;
use crate::order::Effect;
use adapters::hlr::BoxFuture;

impl Store for RedbStore {
    fn create_activation(
        &self,
        new: NewActivation,
    ) -> BoxFuture<'_, Result<CreateOutcome, StoreError>> {
        Box::pin(async move {
            match self.submit(Command::Create(Box::new(new))).await? {
                Reply::Created(o) => Ok(*o),
                r => Err(unexpected(r)),
            }
        })
    }

    fn advance_order(
        &self,
        order: Order,
        effect: Effect,
        event: EventKind,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            match self
                .submit(Command::Advance(Box::new(order), effect, event))
                .await?
            {
                Reply::Advanced => Ok(()),
                r => Err(unexpected(r)),
            }
        })
    }

    fn create_lifecycle(
        &self,
        new: NewLifecycle,
    ) -> BoxFuture<'_, Result<LifecycleOutcome, StoreError>> {
        Box::pin(async move {
            match self.submit(Command::Lifecycle(Box::new(new))).await? {
                Reply::Lifecycle(o) => Ok(*o),
                r => Err(unexpected(r)),
            }
        })
    }

    fn subscription(&self, tenant: &str, msisdn: &str) -> Result<Option<Subscription>, StoreError> {
        self.read(|txn| subscriptions_read::by_msisdn(txn, tenant, msisdn))
    }

    fn subscriptions(
        &self,
        tenant: &str,
        query: &SubscriptionQuery,
    ) -> Result<SubscriptionPage, StoreError> {
        self.read(|txn| subscriptions_read::page(txn, tenant, query))
    }

    fn get_order(&self, tenant: &str, id: &str) -> Result<Option<Order>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(ORDERS).map_err(backend)?;
            let Some(v) = t.get(id).map_err(backend)? else {
                return Ok(None);
            };
            let o: Order = dec("orders", v.value())?;
            Ok((o.tenant == tenant).then_some(o))
        })
    }

    fn activation_idempotency(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(IDEMPOTENCY).map_err(backend)?;
            t.get((tenant, key))
                .map_err(backend)?
                .map(|v| dec("idempotency", v.value()))
                .transpose()
        })
    }

    fn inflight_orders(&self) -> Result<Vec<Order>, StoreError> {
        self.read(|txn| {
            let inflight = txn.open_table(INFLIGHT).map_err(backend)?;
            let orders = txn.open_table(ORDERS).map_err(backend)?;
            let mut out = Vec::new();
            for row in inflight.iter().map_err(backend)? {
                let (k, _) = row.map_err(backend)?;
                if let Some(v) = orders.get(k.value()).map_err(backend)? {
                    out.push(dec("orders", v.value())?);
                }
            }
            Ok(out)
        })
    }

    fn get_sim(&self, iccid: &Iccid) -> Result<Option<SimRecord>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(SIMS).map_err(backend)?;
            t.get(iccid.as_str())
                .map_err(backend)?
                .map(|v| dec("sims", v.value()))
                .transpose()
        })
    }

    fn api_key(&self, hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(API_KEYS).map_err(backend)?;
            t.get(hash.as_slice())
                .map_err(backend)?
                .map(|v| dec("api_keys", v.value()))
                .transpose()
        })
    }

    fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(TENANTS).map_err(backend)?;
            t.get(id)
                .map_err(backend)?
                .map(|v| dec("tenants", v.value()))
                .transpose()
        })
    }

    fn events(&self, from: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(EVENTS).map_err(backend)?;
            let mut out = Vec::new();
            for row in t.range(from..).map_err(backend)?.take(limit) {
                let (_, v) = row.map_err(backend)?;
                out.push(dec("events", v.value())?);
            }
            Ok(out)
        })
    }

    fn inventory_counts(&self, tenant: &str) -> Result<InventoryCounts, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(COUNTERS).map_err(backend)?;
            let get = |name: &str| -> Result<u64, StoreError> {
                Ok(t.get((tenant, name))
                    .map_err(backend)?
                    .map_or(0, |v| v.value()))
            };
            Ok(InventoryCounts {
                sims_available: get(counter::SIMS_AVAILABLE)?,
                sims_reserved: get(counter::SIMS_RESERVED)?,
                sims_active: get(counter::SIMS_ACTIVE)?,
                numbers_available: get(counter::NUMBERS_AVAILABLE)?,
                numbers_golden: get(counter::NUMBERS_GOLDEN)?,
                numbers_held: get(counter::NUMBERS_HELD)?,
                numbers_quarantined: get(counter::NUMBERS_QUARANTINED)?,
            })
        })
    }

    fn admin(&self, change: AdminChange) -> BoxFuture<'_, Result<AdminOutcome, StoreError>> {
        Box::pin(async move {
            let now = crate::clock::Clock::new().now_ms();
            match self.submit(Command::Admin(change, now)).await? {
                Reply::Admin(o) => Ok(o),
                r => Err(unexpected(r)),
            }
        })
    }

    fn prune_idempotency(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move {
            match self.submit(Command::Prune(before_ms)).await? {
                Reply::Pruned(n) => Ok(n),
                r => Err(unexpected(r)),
            }
        })
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(META).map_err(backend)?;
            Ok(t.get(key).map_err(backend)?.map(|v| v.value().to_vec()))
        })
    }

    fn create_reservation(
        &self,
        new: NewReservation,
    ) -> BoxFuture<'_, Result<ReservationOutcome, StoreError>> {
        Box::pin(async move {
            match self
                .submit(Command::Pool(PoolCommand::Reserve(new)))
                .await?
            {
                Reply::Pool(PoolReply::Reserved(o)) => Ok(*o),
                r => Err(unexpected(r)),
            }
        })
    }

    fn get_reservation(&self, tenant: &str, id: &str) -> Result<Option<Reservation>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(RESERVATIONS).map_err(backend)?;
            let Some(v) = t.get(id).map_err(backend)? else {
                return Ok(None);
            };
            let r: Reservation = dec("reservations", v.value())?;
            Ok((r.tenant == tenant).then_some(r))
        })
    }

    fn batch(&self, id: &str) -> Result<Option<BatchRecord>, StoreError> {
        self.batch_record(id)
    }

    fn import_begin(&self, batch: &BatchRecord) -> Result<ImportStart, StoreError> {
        self.begin_import(batch)
    }

    fn import_chunk(
        &self,
        batch_id: &str,
        sims: &[(SimRecord, usize)],
    ) -> Result<Vec<(usize, Clash)>, StoreError> {
        self.write_chunk(batch_id, sims)
    }

    fn import_finish(
        &self,
        batch_id: &str,
        cards: u64,
        now_ms: u64,
    ) -> Result<BatchRecord, StoreError> {
        self.finish_import(batch_id, cards, now_ms)
    }

    fn import_abort(&self, batch_id: &str) -> Result<(), StoreError> {
        self.rollback_batch(batch_id)
    }

    fn recover_imports(&self) -> Result<usize, StoreError> {
        self.recover_unfinished()
    }

    fn batch_sims(
        &self,
        batch_id: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<SimRecord>, StoreError> {
        self.batch_members(batch_id, after, limit)
    }

    fn sim_by_imsi(&self, imsi: &sim_profiles::Imsi) -> Result<Option<SimRecord>, StoreError> {
        self.read(|txn| {
            let imsis = txn.open_table(IMSIS).map_err(backend)?;
            let Some(iccid) = imsis
                .get(imsi.as_str())
                .map_err(backend)?
                .map(|v| v.value().to_owned())
            else {
                return Ok(None);
            };
            let sims = txn.open_table(SIMS).map_err(backend)?;
            sims.get(iccid.as_str())
                .map_err(backend)?
                .map(|v| dec("sims", v.value()))
                .transpose()
        })
    }

    fn quarantined(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<(sim_profiles::Msisdn, u64)>, StoreError> {
        self.read(|txn| {
            let q = txn.open_table(QUARANTINE).map_err(backend)?;
            let numbers = txn.open_table(NUMBERS).map_err(backend)?;
            let mut out = Vec::new();
            for row in q.iter().map_err(backend)? {
                let (k, _) = row.map_err(backend)?;
                let (until, m) = k.value();
                let Some(v) = numbers.get(m).map_err(backend)? else {
                    continue;
                };
                let rec: NumberRecord = dec("numbers", v.value())?;
                if rec.tenant == tenant {
                    let m = m.parse().map_err(|_| StoreError::Corrupt {
                        table: "quarantine",
                        message: "bad MSISDN key".into(),
                    })?;
                    out.push((m, until));
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            Ok(out)
        })
    }

    fn inventory_breakdown(&self, tenant: &str) -> Result<Breakdown, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(COUNTERS).map_err(backend)?;
            let mut out = Breakdown::default();
            for row in t.range((tenant, "")..=(tenant, "~")).map_err(backend)? {
                let (k, v) = row.map_err(backend)?;
                let Some((name, scope)) = k.value().1.split_once('@') else {
                    continue;
                };
                let map = if name.starts_with("numbers_") {
                    &mut out.pools
                } else {
                    &mut out.batches
                };
                map.entry(scope.to_owned())
                    .or_default()
                    .insert(name.to_owned(), v.value());
            }
            Ok(out)
        })
    }

    fn tenant_ids(&self) -> Result<Vec<String>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(TENANTS).map_err(backend)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(backend)? {
                out.push(row.map_err(backend)?.0.value().to_owned());
            }
            Ok(out)
        })
    }

    fn next_pool_deadline(&self) -> Result<Option<u64>, StoreError> {
        self.read(|txn| {
            let mut earliest: Option<u64> = None;
            for def in [RESERVATION_EXPIRY, QUARANTINE] {
                let t = txn.open_table(def).map_err(backend)?;
                if let Some((k, _)) = t.first().map_err(backend)? {
                    let at = k.value().0;
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                }
            }
            Ok(earliest)
        })
    }

    fn record_notification(
        &self,
        n: NotificationIn,
    ) -> BoxFuture<'_, Result<NotificationOutcome, StoreError>> {
        Box::pin(async move {
            match self.submit(Command::Notification(n)).await? {
                Reply::Notification(o) => Ok(o),
                r => Err(unexpected(r)),
            }
        })
    }

    fn esim_progress(&self, order_id: &str) -> Result<Option<EsimProgress>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(ESIM_PROGRESS).map_err(backend)?;
            esim::read_progress(&t, order_id)
        })
    }

    fn next_esim_deadline(&self) -> Result<Option<u64>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(ESIM_EXPIRY).map_err(backend)?;
            Ok(t.first().map_err(backend)?.map(|(k, _)| k.value().0))
        })
    }

    fn expire_esim(
        &self,
        now_ms: u64,
        reopen: Reopen,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(async move {
            match self.submit(Command::ExpireEsim(now_ms, reopen)).await? {
                Reply::Reopened(o) => Ok(o),
                r => Err(unexpected(r)),
            }
        })
    }

    fn expire_due(&self, now_ms: u64) -> BoxFuture<'_, Result<Expired, StoreError>> {
        Box::pin(async move {
            match self
                .submit(Command::Pool(PoolCommand::ExpireDue(now_ms)))
                .await?
            {
                Reply::Pool(PoolReply::Expired(e)) => Ok(e),
                r => Err(unexpected(r)),
            }
        })
    }

    fn quarantine_number(
        &self,
        tenant: &str,
        msisdn: &sim_profiles::Msisdn,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let cmd = Command::Pool(PoolCommand::Quarantine(
            tenant.to_owned(),
            msisdn.clone(),
            now_ms,
        ));
        Box::pin(async move {
            match self.submit(cmd).await? {
                Reply::Pool(PoolReply::Changed(b)) => Ok(b),
                r => Err(unexpected(r)),
            }
        })
    }

    fn release_quarantine(
        &self,
        tenant: &str,
        msisdn: &sim_profiles::Msisdn,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let cmd = Command::Pool(PoolCommand::Release(tenant.to_owned(), msisdn.clone()));
        Box::pin(async move {
            match self.submit(cmd).await? {
                Reply::Pool(PoolReply::Changed(b)) => Ok(b),
                r => Err(unexpected(r)),
            }
        })
    }

    fn public_events(
        &self,
        tenant: &str,
        after: u64,
        event_type: Option<EventType>,
        limit: usize,
    ) -> Result<Vec<PublicEvent>, StoreError> {
        self.read_public_events(tenant, after, event_type, limit)
    }

    fn public_event(&self, tenant: &str, seq: u64) -> Result<Option<PublicEvent>, StoreError> {
        self.read_public_event(tenant, seq)
    }

    fn create_webhook_endpoint(
        &self,
        endpoint: WebhookEndpoint,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.submit_create_endpoint(endpoint))
    }

    fn webhook_endpoints(&self, tenant: &str) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.read_webhook_endpoints(tenant)
    }

    fn webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.read_webhook_endpoint(tenant, id)
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

    fn webhook_deliveries(
        &self,
        tenant: &str,
        endpoint: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Option<Vec<Delivery>>, StoreError> {
        self.read_webhook_deliveries(tenant, endpoint, before, limit)
    }

    fn redeliver_event(
        &self,
        tenant: &str,
        tenant_seq: u64,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<Redelivery, StoreError>> {
        Box::pin(self.submit_redeliver(tenant.to_owned(), tenant_seq, now_ms))
    }

    fn due_deliveries(&self, now_ms: u64, limit: usize) -> Result<Vec<DeliveryKey>, StoreError> {
        self.read_due_deliveries(now_ms, limit)
    }

    fn next_delivery_due(&self, after_ms: u64) -> Result<Option<u64>, StoreError> {
        self.read_next_delivery_due(after_ms)
    }

    fn delivery_job(&self, key: &DeliveryKey) -> Result<Option<DeliveryJob>, StoreError> {
        self.read_delivery_job(key)
    }

    fn record_delivery_attempt(
        &self,
        outcome: AttemptOutcome,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.submit_attempt(outcome))
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
