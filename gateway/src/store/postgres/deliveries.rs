//! The webhook outbox's queueing step (embedded `OutboxTables::enqueue`): one ordering
//! queue per endpoint and subject; only a queue's head has a due time, so one subject's
//! events go out in order while other subjects proceed.

use super::codec::{big, to_doc};
use super::retry::{Tx, TxResult};
use crate::store::{Delivery, DeliveryStatus, PublicEvent, WebhookEndpoint};

/// The scheduling columns of a delivery row written from its record: (`pending`: in
/// its queue, `due_at_ms`: when a queue head is due); an unclaimed row.
pub fn columns(d: &Delivery) -> (bool, Option<i64>) {
    (
        d.status == DeliveryStatus::Pending,
        d.next_attempt_at_ms.map(big),
    )
}

/// Puts a pending delivery in its queue, due at `now_ms` if the queue was empty (a
/// redelivery replaces the earlier row of the same endpoint and event).
pub async fn enqueue(tx: &Tx<'_>, mut d: Delivery, now_ms: u64) -> TxResult<()> {
    let busy = tx
        .row(
            "SELECT 1 FROM webhook_deliveries
             WHERE endpoint = $1 AND queue = $2 AND pending AND event_seq <> $3 LIMIT 1",
            &[&d.endpoint, &d.queue, &big(d.event_seq)],
        )
        .await?
        .is_some();
    d.status = DeliveryStatus::Pending;
    d.next_attempt_at_ms = (!busy).then_some(now_ms);
    let due = d.next_attempt_at_ms.map(big);
    tx.exec(
        "INSERT INTO webhook_deliveries (endpoint, event_seq, queue, status, pending, due_at_ms, doc)
         VALUES ($1, $2, $3, $4, TRUE, $5, $6)
         ON CONFLICT (endpoint, event_seq) DO UPDATE SET queue = excluded.queue,
             status = excluded.status, pending = TRUE, due_at_ms = excluded.due_at_ms,
             lease_owner = NULL, lease_until_ms = NULL, doc = excluded.doc",
        &[
            &d.endpoint,
            &big(d.event_seq),
            &d.queue,
            &d.status.as_str(),
            &due,
            &to_doc(&d)?,
        ],
    )
    .await?;
    Ok(())
}

/// Queues `ev` for every enabled endpoint of its tenant whose filter takes its type.
pub async fn fan_out(
    tx: &Tx<'_>,
    ev: &PublicEvent,
    endpoints: &[WebhookEndpoint],
    now_ms: u64,
) -> TxResult<()> {
    let queue = ev.subject.clone().unwrap_or_else(|| ev.id.clone());
    for e in endpoints {
        if e.disabled.is_some()
            || !(e.event_types.is_empty() || e.event_types.contains(&ev.event_type))
        {
            continue;
        }
        let d = Delivery {
            endpoint: e.id.clone(),
            event_seq: ev.tenant_seq,
            event_id: ev.id.clone(),
            event_type: ev.event_type,
            queue: queue.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            schedule_attempts: 0,
            next_attempt_at_ms: None,
            log: Vec::new(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        };
        enqueue(tx, d, now_ms).await?;
    }
    Ok(())
}
