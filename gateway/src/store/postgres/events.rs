//! Appending to the audit log and the public event log inside a write's transaction
//! (the embedded `Tables::event` and `Tables::publish`). Entries go in unnumbered, batched
//! per attempt and keyed by its id and their order in it (`deferred.rs`); `sequencer.rs`
//! numbers them afterwards, so no write on the request path touches a shared counter row.
//! Webhook deliveries are queued when an event is numbered (their key is the event's
//! tenant sequence number). The batches are inserted just before the commit, all of a
//! transaction's in one statement.

use super::codec::to_doc;
use super::deferred::PublicRow;
use super::retry::{Tx, TxResult};
use crate::order::{Order, OrderStatus};
use crate::store::{Event, EventKind, EventType, PublicEventRow, order_data, subscription_id};

/// Appends an audit event (numbered later; see the module doc).
pub async fn log_event(
    tx: &Tx<'_>,
    at_ms: u64,
    tenant: &str,
    order_id: Option<&str>,
    kind: EventKind,
) -> TxResult<()> {
    let ev = Event {
        seq: 0,
        at_ms,
        tenant: tenant.to_owned(),
        order_id: order_id.map(str::to_owned),
        kind,
    };
    // Inserted with the transaction's other log rows just before its commit.
    tx.deferred().add_event(tx.next_ordinal(), to_doc(&ev)?);
    Ok(())
}

/// Appends an event to the tenant's public log (embedded `Tables::publish`). `subject`
/// orders its webhook deliveries (a line, else an order id); `data` must hold no secret.
pub async fn publish(
    tx: &Tx<'_>,
    now_ms: u64,
    tenant: &str,
    event_type: EventType,
    subject: Option<&str>,
    data: impl serde::Serialize,
) -> TxResult<()> {
    let ev = PublicEventRow {
        seq: 0,
        tenant_seq: 0,
        id: "",
        tenant,
        event_type,
        created_at_ms: now_ms,
        subject,
        data: &data,
    };
    tx.deferred().add_public(PublicRow {
        ord: tx.next_ordinal(),
        tenant: tenant.to_owned(),
        event_type: event_type.as_str(),
        doc: to_doc(&ev)?,
    });
    Ok(())
}

/// Publishes an order's `order.*` event as the embedded `Tables::publish_order` does:
/// `order.created` when `previous` is `None`, else by the new status; ordered by the line.
pub async fn publish_order(
    tx: &Tx<'_>,
    order: &Order,
    previous: Option<OrderStatus>,
) -> TxResult<()> {
    let t = match (previous, order.status) {
        (None, _) => EventType::OrderCreated,
        (Some(_), OrderStatus::Active) => EventType::OrderActive,
        (Some(_), OrderStatus::Failed) => EventType::OrderFailed,
        (Some(_), OrderStatus::Completed) => EventType::OrderCompleted,
        _ => return Ok(()),
    };
    let line = match &order.lifecycle {
        Some(l) => l.subscription.clone(),
        None => subscription_id(&order.id),
    };
    let data = order_data(order, previous);
    publish(tx, order.updated_at_ms, &order.tenant, t, Some(&line), data).await
}
