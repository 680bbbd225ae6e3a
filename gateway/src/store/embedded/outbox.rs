//! The public event log and the webhook outbox inside the writer's transaction.
//! `Tables::publish` appends an event and, in the same commit, a pending delivery row for
//! every enabled endpoint of the tenant that wants it: the transactional outbox. Each
//! endpoint has one ordering queue per subject; only a queue's head is on the due list,
//! so one subject's events go out in order while other subjects proceed.

use super::apply::{Tables, TxResult, backend, dec, enc};
use super::tables::counter;
use crate::order::{Order, OrderStatus};
use crate::store::*;
use ::redb::{ReadableTable, Table, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// (tenant, tenant seq) → `PublicEvent`.
pub const PUBLIC_EVENTS: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("public_events");
/// (tenant, event type, tenant seq): `GET /v1/events?type=` as a range read.
pub const PUBLIC_EVENTS_BY_TYPE: TableDefinition<(&str, &str, u64), ()> =
    TableDefinition::new("public_events_by_type");
/// tenant → its last event's tenant seq; `""` → the last global seq.
pub const PUBLIC_EVENT_SEQ: TableDefinition<&str, u64> = TableDefinition::new("public_event_seq");
/// endpoint id → `WebhookEndpoint` (secrets sealed).
pub const WEBHOOK_ENDPOINTS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("webhook_endpoints");
/// (tenant, endpoint id) → `Route`: what `publish` reads, without the secrets.
pub const WEBHOOK_ROUTES: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("webhook_routes");
/// (endpoint id, tenant seq) → `Delivery`.
pub const WEBHOOK_DELIVERIES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("webhook_deliveries");
/// (endpoint id, queue, tenant seq) of every pending delivery: the ordering queues.
pub const WEBHOOK_QUEUES: TableDefinition<(&str, &str, u64), ()> =
    TableDefinition::new("webhook_queues");
/// (due ms, endpoint id, tenant seq) of each queue's head: the dispatcher's work list.
pub const WEBHOOK_DUE: TableDefinition<(u64, &str, u64), ()> = TableDefinition::new("webhook_due");
/// Outbox settings (`low_stock_threshold`).
pub const OUTBOX_SETTINGS: TableDefinition<&str, u64> = TableDefinition::new("outbox_settings");

const LOW_STOCK: &str = "low_stock_threshold";
/// Upper bound of a string key component (every key here is ASCII).
pub const MAX_STR: &str = "\u{10FFFF}";

/// An endpoint as `publish` sees it.
#[derive(Serialize, Deserialize)]
pub struct Route {
    /// False once disabled.
    pub enabled: bool,
    /// The filter (empty: all).
    pub types: Vec<EventType>,
}

/// The outbox's tables in one write transaction.
pub struct OutboxTables<'t> {
    pub events: Table<'t, (&'static str, u64), &'static [u8]>,
    pub by_type: Table<'t, (&'static str, &'static str, u64), ()>,
    seq: Table<'t, &'static str, u64>,
    pub endpoints: Table<'t, &'static str, &'static [u8]>,
    routes: Table<'t, (&'static str, &'static str), &'static [u8]>,
    pub deliveries: Table<'t, (&'static str, u64), &'static [u8]>,
    pub queues: Table<'t, (&'static str, &'static str, u64), ()>,
    pub due: Table<'t, (u64, &'static str, u64), ()>,
    pub settings: Table<'t, &'static str, u64>,
    low_stock_threshold: Option<u64>,
    /// Each tenant's routes as this transaction has read them: `publish` reads them for
    /// every event, and a group commit publishes many events of few tenants. Dropped on
    /// any write to `routes` (a failed command aborts the whole transaction, so no route
    /// written by it survives here either).
    routes_seen: std::collections::HashMap<String, std::sync::Arc<[(String, Route)]>>,
    /// The last number this transaction drew from each sequence (the global one and each
    /// tenant's): a group commit publishes many events of few tenants, and the next draw
    /// starts from here instead of reading the row (the row's old value, which the write
    /// returns, settles it should it ever differ).
    seq_drawn: Vec<(String, u64)>,
}

impl<'t> OutboxTables<'t> {
    /// Opens (creating if needed) the outbox tables.
    pub fn open(txn: &'t WriteTransaction) -> TxResult<Self> {
        let settings = txn.open_table(OUTBOX_SETTINGS).map_err(backend)?;
        let low_stock_threshold = settings.get(LOW_STOCK).map_err(backend)?.map(|v| v.value());
        Ok(Self {
            events: txn.open_table(PUBLIC_EVENTS).map_err(backend)?,
            by_type: txn.open_table(PUBLIC_EVENTS_BY_TYPE).map_err(backend)?,
            seq: txn.open_table(PUBLIC_EVENT_SEQ).map_err(backend)?,
            endpoints: txn.open_table(WEBHOOK_ENDPOINTS).map_err(backend)?,
            routes: txn.open_table(WEBHOOK_ROUTES).map_err(backend)?,
            deliveries: txn.open_table(WEBHOOK_DELIVERIES).map_err(backend)?,
            queues: txn.open_table(WEBHOOK_QUEUES).map_err(backend)?,
            due: txn.open_table(WEBHOOK_DUE).map_err(backend)?,
            settings,
            low_stock_threshold,
            routes_seen: std::collections::HashMap::new(),
            seq_drawn: Vec::new(),
        })
    }

    /// Creates the tables (store creation), so readers find them before any write.
    pub fn create(txn: &WriteTransaction) -> TxResult<()> {
        drop(OutboxTables::open(txn)?);
        Ok(())
    }

    fn next_seq(&mut self, key: &str) -> TxResult<u64> {
        let drawn = self.seq_drawn.iter().position(|(k, _)| k == key);
        let last = match drawn {
            Some(i) => self.seq_drawn[i].1,
            None => self.seq.get(key).map_err(backend)?.map_or(0, |v| v.value()),
        };
        let held = self
            .seq
            .insert(key, last + 1)
            .map_err(backend)?
            .map_or(0, |v| v.value());
        let n = if held == last {
            last + 1
        } else {
            self.seq.insert(key, held + 1).map_err(backend)?;
            held + 1
        };
        match drawn {
            Some(i) => self.seq_drawn[i].1 = n,
            None => self.seq_drawn.push((key.to_owned(), n)),
        }
        Ok(n)
    }

    pub(super) fn delivery(&self, endpoint: &str, seq: u64) -> TxResult<Option<Delivery>> {
        match self.deliveries.get((endpoint, seq)).map_err(backend)? {
            Some(v) => Ok(Some(dec("webhook_deliveries", v.value())?)),
            None => Ok(None),
        }
    }

    pub(super) fn put_delivery(&mut self, d: &Delivery) -> TxResult<()> {
        self.deliveries
            .insert((d.endpoint.as_str(), d.event_seq), enc(d)?.as_slice())
            .map_err(backend)?;
        Ok(())
    }

    pub(super) fn endpoint(&self, id: &str) -> TxResult<Option<WebhookEndpoint>> {
        match self.endpoints.get(id).map_err(backend)? {
            Some(v) => Ok(Some(dec("webhook_endpoints", v.value())?)),
            None => Ok(None),
        }
    }

    /// The endpoint `id` if `tenant` owns it.
    pub(super) fn endpoint_of(&self, tenant: &str, id: &str) -> TxResult<Option<WebhookEndpoint>> {
        Ok(self.endpoint(id)?.filter(|e| e.tenant == tenant))
    }

    /// Writes an endpoint and its route.
    pub(super) fn put_endpoint(&mut self, e: &WebhookEndpoint) -> TxResult<()> {
        self.endpoints
            .insert(e.id.as_str(), enc(e)?.as_slice())
            .map_err(backend)?;
        let route = Route {
            enabled: e.disabled.is_none(),
            types: e.event_types.clone(),
        };
        self.routes_seen.remove(e.tenant.as_str());
        self.routes
            .insert((e.tenant.as_str(), e.id.as_str()), enc(&route)?.as_slice())
            .map_err(backend)?;
        Ok(())
    }

    /// Removes an endpoint's route.
    pub(super) fn remove_route(&mut self, tenant: &str, id: &str) -> TxResult<()> {
        self.routes_seen.remove(tenant);
        self.routes.remove((tenant, id)).map_err(backend)?;
        Ok(())
    }

    /// The tenant's endpoints as routes, `(id, route)`.
    pub(super) fn routes_of(
        &mut self,
        tenant: &str,
    ) -> TxResult<std::sync::Arc<[(String, Route)]>> {
        if let Some(r) = self.routes_seen.get(tenant) {
            return Ok(r.clone());
        }
        let mut out = Vec::new();
        for row in self
            .routes
            .range((tenant, "")..=(tenant, MAX_STR))
            .map_err(backend)?
        {
            let (k, v) = row.map_err(backend)?;
            out.push((k.value().1.to_owned(), dec("webhook_routes", v.value())?));
        }
        let out: std::sync::Arc<[(String, Route)]> = out.into();
        self.routes_seen.insert(tenant.to_owned(), out.clone());
        Ok(out)
    }

    /// Puts a pending delivery in its queue; it is due at once if the queue was empty.
    pub(super) fn enqueue(&mut self, mut d: Delivery, now_ms: u64) -> TxResult<()> {
        let (ep, queue, seq) = (d.endpoint.clone(), d.queue.clone(), d.event_seq);
        let busy = self
            .queues
            .range((ep.as_str(), queue.as_str(), 0)..=(ep.as_str(), queue.as_str(), u64::MAX))
            .map_err(backend)?
            .next()
            .is_some();
        self.queues
            .insert((ep.as_str(), queue.as_str(), seq), ())
            .map_err(backend)?;
        d.status = DeliveryStatus::Pending;
        d.next_attempt_at_ms = None;
        if !busy {
            d.next_attempt_at_ms = Some(now_ms);
            self.due
                .insert((now_ms, ep.as_str(), seq), ())
                .map_err(backend)?;
        }
        self.put_delivery(&d)
    }

    /// Takes a finished delivery out of its queue and makes the queue's new head due.
    pub(super) fn dequeue(&mut self, d: &Delivery, now_ms: u64) -> TxResult<()> {
        let (ep, queue) = (d.endpoint.as_str(), d.queue.as_str());
        if let Some(at) = d.next_attempt_at_ms {
            self.due.remove((at, ep, d.event_seq)).map_err(backend)?;
        }
        self.queues
            .remove((ep, queue, d.event_seq))
            .map_err(backend)?;
        let head = self
            .queues
            .range((ep, queue, 0)..=(ep, queue, u64::MAX))
            .map_err(backend)?
            .next()
            .transpose()
            .map_err(backend)?
            .map(|(k, _)| k.value().2);
        if let Some(seq) = head {
            if let Some(mut next) = self.delivery(ep, seq)? {
                if next.next_attempt_at_ms.is_none() {
                    next.next_attempt_at_ms = Some(now_ms);
                    self.due.insert((now_ms, ep, seq), ()).map_err(backend)?;
                    self.put_delivery(&next)?;
                }
            }
        }
        Ok(())
    }
}

impl Tables<'_> {
    /// Appends an event to the tenant's public log and, in this same transaction, a
    /// pending delivery for every enabled endpoint of the tenant whose filter takes
    /// `event_type`. `subject` orders deliveries (a line's MSISDN, else an order id);
    /// `data` must hold no secret. Costs a point insert per endpoint, no scan.
    pub fn publish(
        &mut self,
        now_ms: u64,
        tenant: &str,
        event_type: EventType,
        subject: Option<&str>,
        data: impl Serialize,
    ) -> TxResult<()> {
        let o = &mut self.outbox;
        let seq = o.next_seq("")?;
        let tenant_seq = o.next_seq(tenant)?;
        let id = event_id(tenant_seq);
        let ev = PublicEventRow {
            seq,
            tenant_seq,
            id: &id,
            tenant,
            event_type,
            created_at_ms: now_ms,
            subject,
            data: &data,
        };
        o.events
            .insert((tenant, tenant_seq), enc(&ev)?.as_slice())
            .map_err(backend)?;
        o.by_type
            .insert((tenant, event_type.as_str(), tenant_seq), ())
            .map_err(backend)?;
        let queue = subject.unwrap_or(&id).to_owned();
        for (endpoint, route) in o.routes_of(tenant)?.iter() {
            if !route.enabled || !(route.types.is_empty() || route.types.contains(&event_type)) {
                continue;
            }
            let d = Delivery {
                endpoint: endpoint.clone(),
                event_seq: tenant_seq,
                event_id: id.clone(),
                event_type,
                queue: queue.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                schedule_attempts: 0,
                next_attempt_at_ms: None,
                log: Vec::new(),
                created_at_ms: now_ms,
                updated_at_ms: now_ms,
            };
            o.enqueue(d, now_ms)?;
        }
        Ok(())
    }

    /// Publishes `inventory.low_stock` when a tenant's available SIMs or numbers fall to
    /// the configured threshold: once per crossing, since the count must rise above it
    /// again before it can fall to it again. Called by every counter change.
    pub fn watch_stock(
        &mut self,
        tenant: &str,
        name: &str,
        before: u64,
        after: u64,
    ) -> TxResult<()> {
        let Some(threshold) = self.outbox.low_stock_threshold else {
            return Ok(());
        };
        if !(name == counter::SIMS_AVAILABLE || name == counter::NUMBERS_AVAILABLE)
            || !(before > threshold && after <= threshold)
        {
            return Ok(());
        }
        let now_ms = crate::clock::Clock::new().now_ms();
        let data = json!({"counter": name, "available": after, "threshold": threshold});
        self.publish(now_ms, tenant, EventType::InventoryLowStock, None, data)
    }

    /// Sets the low-stock threshold (`None`: no low-stock events).
    pub fn set_low_stock_threshold(&mut self, threshold: Option<u64>) -> TxResult<()> {
        match threshold {
            Some(t) => self.outbox.settings.insert(LOW_STOCK, t).map_err(backend)?,
            None => self.outbox.settings.remove(LOW_STOCK).map_err(backend)?,
        };
        self.outbox.low_stock_threshold = threshold;
        Ok(())
    }
}

impl Tables<'_> {
    /// Publishes an order's `order.*` event: `order.created` when `previous` is `None`,
    /// else `order.active` or `order.failed` by its new status (other changes are not
    /// public events). Ordered by the line's MSISDN.
    pub fn publish_order(&mut self, order: &Order, previous: Option<OrderStatus>) -> TxResult<()> {
        let t = match (previous, order.status) {
            (None, _) => EventType::OrderCreated,
            (Some(_), OrderStatus::Active) => EventType::OrderActive,
            (Some(_), OrderStatus::Failed) => EventType::OrderFailed,
            (Some(_), OrderStatus::Completed) => EventType::OrderCompleted,
            _ => return Ok(()),
        };
        let data = order_data(order, previous);
        // One line's events keep one subject whatever its number becomes.
        let line = match &order.lifecycle {
            Some(l) => l.subscription.clone(),
            None => subscription_id(&order.id),
        };
        self.publish(order.updated_at_ms, &order.tenant, t, Some(&line), data)
    }

    /// Publishes `esim.*` for a notification that changed the profile's state, or
    /// reported a failure.
    pub fn publish_esim(
        &mut self,
        n: &NotificationIn,
        order_id: &str,
        before: Option<EsimState>,
        after: Option<EsimState>,
    ) -> TxResult<()> {
        let t = match after {
            _ if n.success == Some(false) => EventType::EsimError,
            Some(s) if Some(s) == before => return Ok(()),
            Some(EsimState::Downloaded) => EventType::EsimDownloaded,
            Some(EsimState::Installed) => EventType::EsimInstalled,
            Some(EsimState::Error) => EventType::EsimError,
            _ => return Ok(()),
        };
        let Some(order) = Self::get_json::<Order>(&self.orders, "orders", order_id)? else {
            return Ok(());
        };
        let data = json!({
            "order_id": order.id,
            "iccid": order.iccid,
            "eid": order.esim.as_ref().and_then(|e| e.eid.clone()),
            "msisdn": order.msisdn,
            "state": after.map(EsimState::as_str),
            "previous": before.map(EsimState::as_str),
            "point": n.point,
            "status": n.status,
            "code": n.code,
        });
        self.publish(
            n.now_ms,
            &order.tenant,
            t,
            Some(order.msisdn.as_str()),
            data,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(id: &str, disabled: bool) -> WebhookEndpoint {
        WebhookEndpoint {
            id: id.into(),
            tenant: "t".into(),
            url: "https://hooks.example/x".into(),
            event_types: Vec::new(),
            secrets: Vec::new(),
            disabled: disabled.then(|| Disabled {
                reason: "test".into(),
                at_ms: 1,
            }),
            created_at_ms: 1,
        }
    }

    fn queued(t: &Tables<'_>, id: &str, seq: u64) -> bool {
        t.outbox.delivery(id, seq).expect("read").is_some()
    }

    /// Sequence numbers stay gap-free and in order whether a draw starts from the row or
    /// from what the transaction drew last, and a remembered draw that disagrees with the
    /// row (it never should) gives way to the row.
    #[test]
    fn sequences_count_on_from_the_row() {
        let db = crate::store::embedded::memory_db();
        let txn = db.begin_write().expect("write");
        let mut o = OutboxTables::open(&txn).expect("tables");
        o.seq.insert("t", 41).expect("insert");
        let drawn: Vec<u64> = (0..3).map(|_| o.next_seq("t").expect("draw")).collect();
        assert_eq!(drawn, [42, 43, 44]);
        assert_eq!(o.next_seq("").expect("draw"), 1);
        // Remembered too low, then too high: the row decides.
        for stale in [40, 50] {
            o.seq_drawn[0].1 = stale;
            let n = o.next_seq("t").expect("draw");
            assert_eq!(o.seq.get("t").expect("read").map(|v| v.value()), Some(n));
        }
        assert_eq!(o.seq.get("t").expect("read").map(|v| v.value()), Some(46));
        assert_eq!(o.next_seq("t").expect("draw"), 47);
    }

    /// The routes `publish` remembers within one transaction follow every change to them
    /// in that transaction: an endpoint added, disabled or removed after a publish counts
    /// for the next one.
    #[test]
    fn routes_remembered_in_a_commit_follow_its_endpoint_changes() {
        let db = crate::store::embedded::memory_db();
        let txn = db.begin_write().expect("write");
        {
            let mut t = Tables::open(&txn).expect("tables");
            let publish = |t: &mut Tables<'_>| {
                t.publish(10, "t", EventType::OrderCreated, Some("s"), json!({}))
                    .expect("publish");
            };
            publish(&mut t); // seq 1: no endpoint yet
            t.outbox
                .put_endpoint(&endpoint("we_a", false))
                .expect("put");
            publish(&mut t); // 2
            assert!(queued(&t, "we_a", 2) && !queued(&t, "we_a", 1));
            t.outbox
                .put_endpoint(&endpoint("we_a", true))
                .expect("disable");
            publish(&mut t); // 3
            assert!(!queued(&t, "we_a", 3));
            t.outbox
                .put_endpoint(&endpoint("we_b", false))
                .expect("put");
            t.outbox.remove_route("t", "we_b").expect("remove");
            publish(&mut t); // 4
            assert!(!queued(&t, "we_b", 4));
        }
        txn.abort().expect("abort");
    }
}
