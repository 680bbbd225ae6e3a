//! Port-in orders on PostgreSQL (embedded `ports.rs`; see `store/porting_port.rs`): the
//! durable inbox of port items, the parked ports' deadline index and the open ports of
//! each tenant (migration 6). `orders::update` takes a parked order out of
//! `orders_inflight`; `index` keeps the two indexes in step with every order write.

use super::PgStore;
use super::advance::advance_order;
use super::codec::{big, from_doc, to_doc, unbig};
use super::events::log_event;
use super::order_leases::Owner;
use super::orders;
use super::retry::{Tx, TxResult, db_error};
use crate::order::{Effect, Order};
use crate::store::*;

/// Most parked ports one timer sweep wakes.
const WAKE_BATCH: i64 = 500;

/// Keeps `ports_open` and `port_parked` in step with an order write (`current`: the
/// version it replaces, `None` for a new order).
pub async fn index(tx: &Tx<'_>, current: Option<&Order>, order: &Order) -> TxResult<()> {
    if order.port.is_none() {
        return Ok(());
    }
    if order.status.is_terminal() {
        tx.exec(
            "DELETE FROM ports_open WHERE tenant = $1 AND order_id = $2",
            &[&order.tenant, &order.id],
        )
        .await?;
    } else if current.is_none() {
        tx.exec(
            "INSERT INTO ports_open (tenant, order_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&order.tenant, &order.id],
        )
        .await?;
    }
    let before = current.and_then(Order::port_parked);
    let after = order.port_parked();
    if before == after {
        return Ok(());
    }
    if let Some(d) = before {
        tx.exec(
            "DELETE FROM port_parked WHERE due_ms = $1 AND order_id = $2",
            &[&big(d), &order.id],
        )
        .await?;
    }
    if let Some(d) = after {
        tx.exec(
            "INSERT INTO port_parked (due_ms, order_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&big(d), &order.id],
        )
        .await?;
    }
    Ok(())
}

async fn has_pending(tx: &Tx<'_>, order_id: &str) -> TxResult<bool> {
    Ok(tx
        .row(
            "SELECT 1 FROM port_inbox WHERE order_id = $1 AND NOT applied LIMIT 1",
            &[&order_id],
        )
        .await?
        .is_some())
}

/// Receives one item of a batch. `held`: its order as the batch's items before it left
/// it, not written yet; `next_same`: the batch's next item is for that order.
async fn receive(
    tx: &Tx<'_>,
    item: &PortInboxItem,
    arrival: &OnArrival,
    (node, lease_ms): Owner<'_>,
    (held, next_same): (&mut Option<Held>, bool),
) -> TxResult<PortReceived> {
    let order = match (&item.order_id, held.as_ref()) {
        (_, Some(h)) => Some(h.resumed()),
        (Some(id), None) => orders::get(tx, id)
            .await?
            .map(|r| r.order)
            .filter(|o| o.port.is_some() && !o.status.is_terminal()),
        (None, None) => None,
    };
    let before = order.as_ref().map(Held::standing);
    let (next, applied) = arrival.decide(order, item.received_at_ms);
    let mut stored = item.clone();
    stored.applied = applied;
    let n = tx
        .exec(
            "INSERT INTO port_inbox (key, order_id, received_at_ms, applied, doc)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING",
            &[
                &item.key,
                &item.order_id,
                &big(item.received_at_ms),
                &stored.applied,
                &to_doc(&stored)?,
            ],
        )
        .await?;
    if n == 0 {
        return Ok(PortReceived::Duplicate);
    }
    if let Some(h) = held.take() {
        // Its event now; the order is written with a later item's.
        let o = &h.order;
        log_event(tx, o.updated_at_ms, &o.tenant, Some(&o.id), h.event).await?;
    }
    let Some(next) = next else {
        return Ok(PortReceived::Queued { woken: None });
    };
    let next = match Held::hold(next, (&item.key, applied), before, next_same) {
        Ok((h, received)) => {
            *held = Some(h);
            return Ok(received);
        }
        Err(next) => next,
    };
    let (order, effect, event) = next.write(&item.key, applied);
    advance_order(tx, order, effect, &event).await?;
    if let Arrived::Order(o) = &next {
        if o.port_parked().is_none() {
            let until = item.received_at_ms.saturating_add(lease_ms);
            orders::lease_to(tx, &o.id, node, until).await?;
        }
    }
    Ok(arrival_outcome(next))
}

async fn apply(
    tx: &Tx<'_>,
    order: &Order,
    keys: &[String],
    (effect, event): (&Effect, &EventKind),
) -> TxResult<bool> {
    for key in keys {
        let Some(row) = tx
            .row("SELECT doc FROM port_inbox WHERE key = $1", &[key])
            .await?
        else {
            continue;
        };
        let mut item: PortInboxItem = from_doc("port_inbox", row.get(0))?;
        item.applied = true;
        tx.exec(
            "UPDATE port_inbox SET applied = TRUE, doc = $2 WHERE key = $1",
            &[key, &to_doc(&item)?],
        )
        .await?;
    }
    let waiting = order.port_parked().is_some() && has_pending(tx, &order.id).await?;
    if waiting {
        advance_order(tx, &unparked(order), effect, event).await?;
    } else {
        advance_order(tx, order, effect, event).await?;
    }
    Ok(!waiting)
}

async fn park(tx: &Tx<'_>, order: &Order) -> TxResult<bool> {
    if has_pending(tx, &order.id).await? {
        return Ok(false);
    }
    let event = EventKind::Port {
        what: "parked".into(),
    };
    advance_order(tx, order, &Effect::None, &event).await?;
    Ok(true)
}

async fn wake_due(
    tx: &Tx<'_>,
    now_ms: u64,
    wake: Reopen,
    (node, lease_ms): Owner<'_>,
) -> TxResult<Vec<Order>> {
    // SKIP LOCKED: nodes sweeping at once share the due ports instead of colliding.
    let due: Vec<String> = tx
        .rows(
            "SELECT order_id FROM port_parked WHERE due_ms <= $1 AND due_ms < $3
             ORDER BY due_ms, order_id LIMIT $2 FOR UPDATE SKIP LOCKED",
            // i64::MAX is "no deadline" (u64::MAX stored as a BIGINT).
            &[&big(now_ms), &WAKE_BATCH, &i64::MAX],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut woken = Vec::new();
    for id in due {
        let Some(order) = orders::get(tx, &id).await?.map(|r| r.order) else {
            continue;
        };
        let next = wake(order, now_ms);
        let event = EventKind::Port {
            what: "deadline".into(),
        };
        advance_order(tx, &next, &Effect::None, &event).await?;
        orders::lease_to(tx, &id, node, now_ms.saturating_add(lease_ms)).await?;
        woken.push(next);
    }
    Ok(woken)
}

async fn issue_credential(tx: &Tx<'_>, c: &CredentialIssue) -> TxResult<Option<Subscription>> {
    let line = super::lines::by_msisdn(tx, c.msisdn.as_str()).await?;
    let Some(sub) = c.apply(line) else {
        return Ok(None);
    };
    super::lines::put(tx, &sub).await?;
    let t = EventType::PortOutCredentialIssued;
    let at = c.issued.issued_at_ms;
    super::events::publish(
        tx,
        at,
        &c.tenant,
        t,
        Some(c.msisdn.as_str()),
        c.data.clone(),
    )
    .await?;
    Ok(Some(sub))
}

impl PortingStore for PgStore {
    fn issue_port_out_credential(
        &self,
        c: CredentialIssue,
    ) -> adapters::hlr::BoxFuture<'_, Result<Option<Subscription>, StoreError>> {
        Box::pin(async move {
            self.transaction(&c, |tx, c| Box::pin(issue_credential(tx, c)))
                .await
        })
    }

    fn receive_port_items(
        &self,
        items: Vec<(PortInboxItem, OnArrival)>,
    ) -> adapters::hlr::BoxFuture<'_, Result<Vec<PortReceived>, StoreError>> {
        Box::pin(async move {
            self.transaction(&(items, self.owner()), |tx, (items, owner)| {
                Box::pin(async move {
                    // An order its consecutive items leave parked is written once.
                    let mut out = Vec::with_capacity(items.len());
                    let mut held = None;
                    for (i, (item, arrival)) in items.iter().enumerate() {
                        let next_same = Held::next_same(items, i);
                        let hold = (&mut held, next_same);
                        out.push(receive(tx, item, arrival, *owner, hold).await?);
                        if let Some(h) = held.take_if(|_| !next_same) {
                            advance_order(tx, &h.order, &Effect::None, &h.event).await?;
                        }
                    }
                    Ok(out)
                })
            })
            .await
        })
    }

    fn pending_port_items<'a>(
        &'a self,
        order_id: &'a str,
    ) -> adapters::hlr::BoxFuture<'a, Result<Vec<PortInboxItem>, StoreError>> {
        Box::pin(async move {
            let c = self.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT doc FROM port_inbox WHERE order_id = $1 AND NOT applied
                     ORDER BY received_at_ms, key",
                )
                .await
                .map_err(|e| db_error(&e))?;
            c.query(&st, &[&order_id])
                .await
                .map_err(|e| db_error(&e))?
                .into_iter()
                .map(|r| from_doc("port_inbox", r.get(0)))
                .collect()
        })
    }

    fn apply_port_items(
        &self,
        order: Order,
        keys: Vec<String>,
        effect: Effect,
        event: EventKind,
    ) -> adapters::hlr::BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            self.transaction(
                &(order, keys, effect, event),
                |tx, (order, keys, effect, event)| {
                    Box::pin(apply(tx, order, keys, (effect, event)))
                },
            )
            .await
        })
    }

    fn park_port(&self, order: Order) -> adapters::hlr::BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            self.transaction(&order, |tx, order| Box::pin(park(tx, order)))
                .await
        })
    }

    fn next_port_deadline(&self) -> adapters::hlr::BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move {
            let c = self.client().await?;
            let st = c
                .prepare_cached("SELECT due_ms FROM port_parked ORDER BY due_ms LIMIT 1")
                .await
                .map_err(|e| db_error(&e))?;
            Ok(c.query_opt(&st, &[])
                .await
                .map_err(|e| db_error(&e))?
                .map(|r| r.get::<_, i64>(0))
                .filter(|d| *d != i64::MAX)
                .map(unbig))
        })
    }

    fn wake_due_ports(
        &self,
        now_ms: u64,
        wake: Reopen,
    ) -> adapters::hlr::BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(async move {
            self.transaction(&(now_ms, wake, self.owner()), |tx, (now, wake, owner)| {
                Box::pin(wake_due(tx, *now, *wake, *owner))
            })
            .await
        })
    }

    fn open_ports<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> adapters::hlr::BoxFuture<'a, Result<Vec<Order>, StoreError>> {
        Box::pin(async move {
            let c = self.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT o.doc FROM ports_open p JOIN orders o ON o.id = p.order_id
                     WHERE p.tenant = $1 ORDER BY o.created_at_ms, o.id LIMIT $2",
                )
                .await
                .map_err(|e| db_error(&e))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            c.query(&st, &[&tenant, &limit])
                .await
                .map_err(|e| db_error(&e))?
                .into_iter()
                .map(|r| from_doc("orders", r.get(0)))
                .collect()
        })
    }
}
