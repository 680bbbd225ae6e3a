//! The `Store` trait on redb: each write method queues one command for the group-commit
//! writer and answers once it is durable; each read runs in its own snapshot.

use super::writer::{PoolCommand, PoolReply};
use super::*;
use crate::order::Effect;
use adapters::hlr::BoxFuture;
use std::ops::Bound::{Excluded, Included};

/// Above every MSISDN (15 digits at most).
const MAX_MSISDN: &str = "9999999999999999";

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

    fn subscription<'a>(
        &'a self,
        tenant: &'a str,
        msisdn: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subscription>, StoreError>> {
        Box::pin(async move { self.read(|txn| subscriptions_read::by_msisdn(txn, tenant, msisdn)) })
    }

    fn subscriptions<'a>(
        &'a self,
        tenant: &'a str,
        query: &'a SubscriptionQuery,
    ) -> BoxFuture<'a, Result<SubscriptionPage, StoreError>> {
        Box::pin(async move { self.read(|txn| subscriptions_read::page(txn, tenant, query)) })
    }

    fn get_order<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Order>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(ORDERS).map_err(backend)?;
                let Some(v) = t.get(id).map_err(backend)? else {
                    return Ok(None);
                };
                let o: Order = dec("orders", v.value())?;
                Ok((o.tenant == tenant).then_some(o))
            })
        })
    }

    fn activation_idempotency<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<IdempotencyRecord>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(IDEMPOTENCY).map_err(backend)?;
                t.get((tenant, key))
                    .map_err(backend)?
                    .map(|v| dec("idempotency", v.value()))
                    .transpose()
            })
        })
    }

    fn inflight_orders(&self) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(async move {
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
        })
    }

    fn claim_orders(
        &self,
        _now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(async move {
            let mut all = self.inflight_orders().await?;
            all.truncate(limit);
            Ok(all)
        })
    }

    fn renew_leases<'a>(
        &'a self,
        _ids: &'a [String],
        _now_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn get_sim<'a>(
        &'a self,
        iccid: &'a Iccid,
    ) -> BoxFuture<'a, Result<Option<SimRecord>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(SIMS).map_err(backend)?;
                t.get(iccid.as_str())
                    .map_err(backend)?
                    .map(|v| dec("sims", v.value()))
                    .transpose()
            })
        })
    }

    fn api_key<'a>(
        &'a self,
        hash: &'a [u8; 32],
    ) -> BoxFuture<'a, Result<Option<ApiKeyRecord>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(API_KEYS).map_err(backend)?;
                t.get(hash.as_slice())
                    .map_err(backend)?
                    .map(|v| dec("api_keys", v.value()))
                    .transpose()
            })
        })
    }

    fn tenant<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Tenant>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(TENANTS).map_err(backend)?;
                t.get(id)
                    .map_err(backend)?
                    .map(|v| tenant_from_bytes(id, v.value(), |b| dec("tenants", b)))
                    .transpose()
                    .map(|t| t.map(|t| Tenant::clone(&t)))
            })
        })
    }

    fn events(&self, from: u64, limit: usize) -> BoxFuture<'_, Result<Vec<Event>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(EVENTS).map_err(backend)?;
                let mut out = Vec::new();
                for row in t.range(from..).map_err(backend)?.take(limit) {
                    let (_, v) = row.map_err(backend)?;
                    out.push(dec("events", v.value())?);
                }
                Ok(out)
            })
        })
    }

    fn inventory_counts<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<InventoryCounts, StoreError>> {
        Box::pin(async move {
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

    fn meta<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(META).map_err(backend)?;
                Ok(t.get(key).map_err(backend)?.map(|v| v.value().to_vec()))
            })
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

    fn get_reservation<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Reservation>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(RESERVATIONS).map_err(backend)?;
                let Some(v) = t.get(id).map_err(backend)? else {
                    return Ok(None);
                };
                let r: Reservation = dec("reservations", v.value())?;
                Ok((r.tenant == tenant).then_some(r))
            })
        })
    }

    fn batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<BatchRecord>, StoreError>> {
        Box::pin(async move { self.batch_record(id) })
    }

    fn import_begin<'a>(
        &'a self,
        batch: &'a BatchRecord,
    ) -> BoxFuture<'a, Result<ImportStart, StoreError>> {
        Box::pin(async move { self.begin_import(batch) })
    }

    fn import_chunk<'a>(
        &'a self,
        batch_id: &'a str,
        sims: &'a [(SimRecord, usize)],
    ) -> BoxFuture<'a, Result<Vec<(usize, Clash)>, StoreError>> {
        Box::pin(async move { self.write_chunk(batch_id, sims) })
    }

    fn import_finish<'a>(
        &'a self,
        batch_id: &'a str,
        cards: u64,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<BatchRecord, StoreError>> {
        Box::pin(async move { self.finish_import(batch_id, cards, now_ms) })
    }

    fn import_abort<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.rollback_batch(batch_id) })
    }

    fn recover_imports(&self) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move { self.recover_unfinished() })
    }

    fn batch_sims<'a>(
        &'a self,
        batch_id: &'a str,
        after: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SimRecord>, StoreError>> {
        Box::pin(async move { self.batch_members(batch_id, after, limit) })
    }

    fn sim_by_imsi<'a>(
        &'a self,
        imsi: &'a sim_profiles::Imsi,
    ) -> BoxFuture<'a, Result<Option<SimRecord>, StoreError>> {
        Box::pin(async move {
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
        })
    }

    fn quarantined<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<(sim_profiles::Msisdn, u64)>, StoreError>> {
        Box::pin(async move {
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
        })
    }

    fn inventory_breakdown<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Breakdown, StoreError>> {
        Box::pin(async move {
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
        })
    }

    fn tenant_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(TENANTS).map_err(backend)?;
                let mut out = Vec::new();
                for row in t.iter().map_err(backend)? {
                    out.push(row.map_err(backend)?.0.value().to_owned());
                }
                Ok(out)
            })
        })
    }

    fn next_pool_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move {
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

    fn esim_progress<'a>(
        &'a self,
        order_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<EsimProgress>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(ESIM_PROGRESS).map_err(backend)?;
                esim::read_progress(&t, order_id)
            })
        })
    }

    fn next_esim_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(ESIM_EXPIRY).map_err(backend)?;
                Ok(t.first().map_err(backend)?.map(|(k, _)| k.value().0))
            })
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

    fn release_reservation<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let cmd = Command::Pool(PoolCommand::ReleaseHold(
            tenant.to_owned(),
            id.to_owned(),
            now_ms,
        ));
        Box::pin(async move {
            match self.submit(cmd).await? {
                Reply::Pool(PoolReply::Changed(b)) => Ok(b),
                r => Err(unexpected(r)),
            }
        })
    }

    fn free_numbers<'a>(
        &'a self,
        tenant: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<(sim_profiles::Msisdn, NumberClass)>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                // Ordinary and golden free numbers are two indexes: up to `limit` of each
                // after `after`, merged in number order.
                let mut out = Vec::new();
                for (table, class) in [
                    (FREE_NUMBERS, NumberClass::Normal),
                    (FREE_GOLDEN, NumberClass::Golden),
                ] {
                    let t = txn.open_table(table).map_err(backend)?;
                    let lo = (tenant, after.unwrap_or(""));
                    let range = t
                        .range::<(&str, &str)>((Excluded(lo), Included((tenant, MAX_MSISDN))))
                        .map_err(backend)?;
                    for row in range.take(limit) {
                        let (k, _) = row.map_err(backend)?;
                        let m: sim_profiles::Msisdn =
                            k.value().1.parse().map_err(|_| StoreError::Corrupt {
                                table: "free_numbers",
                                message: "bad MSISDN key".into(),
                            })?;
                        out.push((m, class));
                    }
                }
                out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
                out.truncate(limit);
                Ok(out)
            })
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
}
