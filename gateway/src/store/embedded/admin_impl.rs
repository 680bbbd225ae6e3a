//! [`StoreAdmin`] on redb: the operators' and sandbox's extras. The listings scan (they
//! serve a sandbox page and reconciliation, never a request path).

use super::RedbStore;
use super::apply::{backend, dec};
use super::tables::{EVENTS, NUMBERS, ORDERS, SIMS};
use crate::crypto::Keyring;
use crate::order::{Order, OrderStatus};
use crate::store::*;
use ::redb::{ReadableTable, ReadableTableMetadata};
use adapters::hlr::BoxFuture;
use sim_profiles::Iccid;

impl StoreAdmin for RedbStore {
    fn rewrap<'a>(
        &'a self,
        keys: &'a Keyring,
        chunk: usize,
        max_chunks: Option<u64>,
    ) -> BoxFuture<'a, Result<RewrapReport, StoreError>> {
        Box::pin(async move { self.rewrap_pass(keys, chunk, max_chunks) })
    }

    fn sealed_key_usage(
        &self,
    ) -> BoxFuture<'_, Result<std::collections::BTreeMap<String, u64>, StoreError>> {
        Box::pin(async move { self.count_sealed() })
    }

    fn number_block<'a>(
        &'a self,
        msisdn: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(NUMBERS).map_err(backend)?;
                t.get(msisdn)
                    .map_err(backend)?
                    .map(|v| dec::<NumberRecord>("numbers", v.value()).map(|r| r.block))
                    .transpose()
            })
        })
    }

    fn available_sims<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Iccid>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(SIMS).map_err(backend)?;
                let mut out = Vec::new();
                for row in t.iter().map_err(backend)? {
                    if out.len() >= limit {
                        break;
                    }
                    let (_, v) = row.map_err(backend)?;
                    let s: SimRecord = dec("sims", v.value())?;
                    if s.tenant == tenant
                        && s.state == SimState::Available
                        && s.esim_profile_type.is_none()
                    {
                        out.push(s.iccid);
                    }
                }
                Ok(out)
            })
        })
    }

    fn orders_with_status<'a>(
        &'a self,
        tenant: &'a str,
        status: OrderStatus,
    ) -> BoxFuture<'a, Result<Vec<Order>, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                let t = txn.open_table(ORDERS).map_err(backend)?;
                let mut out = Vec::new();
                for row in t.iter().map_err(backend)? {
                    let (_, v) = row.map_err(backend)?;
                    let o: Order = dec("orders", v.value())?;
                    if o.tenant == tenant && o.status == status {
                        out.push(o);
                    }
                }
                Ok(out)
            })
        })
    }

    fn event_count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            self.read(|txn| {
                txn.open_table(EVENTS)
                    .map_err(backend)?
                    .len()
                    .map_err(backend)
            })
        })
    }

    fn publish_for_test<'a>(
        &'a self,
        now_ms: u64,
        tenant: &'a str,
        event_type: EventType,
        subject: Option<&'a str>,
        data: serde_json::Value,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let txn = self.db()?.begin_write().map_err(backend)?;
            {
                let mut t = super::apply::Tables::open(&txn)?;
                t.publish(now_ms, tenant, event_type, subject, data)?;
            }
            txn.commit().map_err(backend)?;
            self.outbox_wake.notify_one();
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.close_now() })
    }
}
