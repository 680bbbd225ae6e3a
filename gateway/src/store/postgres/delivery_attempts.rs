//! Driving webhook deliveries when several nodes share the outbox (embedded
//! `webhook_cmds.rs`, `outbox.rs` and `outbox_read.rs`): claiming due deliveries for this
//! node, recording an attempt's outcome (the queue's next event becomes due, a retry is
//! scheduled, or the endpoint is disabled when the schedule ran out), and redelivery.
//!
//! A claim sets the row's lease (`lease_owner`, `lease_until_ms`) and moves its due time
//! (`due_at_ms`, the scheduling column) to the lease's end, so other nodes'
//! `due_deliveries` and every node's `next_delivery_due` pass over it until the claim
//! lapses, with no other condition in their queries. The record's `next_attempt_at_ms` keeps the time the
//! attempt was due. Recording the attempt clears the claim; only the claiming node (or
//! anyone, for an unclaimed row) may record it.

use super::PgStore;
use super::codec::{big, from_doc, to_doc, unbig};
use super::deliveries::enqueue;
use super::events::publish;
use super::reads::{PUBLIC_EVENT, public_event_of};
use super::retry::{Tx, TxResult};
use super::webhook_endpoints::{endpoint_in, endpoints_of, put_endpoint};
use crate::store::*;
use serde_json::json;

/// How long a claimed delivery is this node's: longer than an attempt (the webhook
/// timeout, 15 s by default, plus recording it). Another node may attempt it after that.
pub const DELIVERY_LEASE_MS: u64 = 60_000;

/// A delivery row: its record and the node that claimed it, if any.
async fn delivery(
    tx: &Tx<'_>,
    endpoint: &str,
    seq: u64,
) -> TxResult<Option<(Delivery, Option<String>)>> {
    match tx
        .row(
            "SELECT doc, lease_owner FROM webhook_deliveries WHERE endpoint = $1 AND event_seq = $2",
            &[&endpoint, &big(seq)],
        )
        .await?
    {
        Some(r) => Ok(Some((from_doc("webhook_deliveries", r.get(0))?, r.get(1)))),
        None => Ok(None),
    }
}

/// Rewrites a delivery row from its record: pending while `status` is, due at
/// `next_attempt_at_ms`, unclaimed.
async fn put_delivery(tx: &Tx<'_>, d: &Delivery) -> TxResult<()> {
    let (pending, due) = super::deliveries::columns(d);
    tx.exec(
        "UPDATE webhook_deliveries SET status = $3, pending = $4, due_at_ms = $5,
             lease_owner = NULL, lease_until_ms = NULL, doc = $6
         WHERE endpoint = $1 AND event_seq = $2",
        &[
            &d.endpoint,
            &big(d.event_seq),
            &d.status.as_str(),
            &pending,
            &due,
            &to_doc(d)?,
        ],
    )
    .await?;
    Ok(())
}

/// After `d` left its queue: makes the queue's new head (lowest event) due now, unless it
/// already has a due time.
async fn promote_head(tx: &Tx<'_>, d: &Delivery, now_ms: u64) -> TxResult<()> {
    let head = tx
        .row(
            "SELECT doc FROM webhook_deliveries WHERE endpoint = $1 AND queue = $2 AND pending
             ORDER BY event_seq LIMIT 1",
            &[&d.endpoint, &d.queue],
        )
        .await?;
    if let Some(r) = head {
        let mut next: Delivery = from_doc("webhook_deliveries", r.get(0))?;
        if next.next_attempt_at_ms.is_none() {
            next.next_attempt_at_ms = Some(now_ms);
            put_delivery(tx, &next).await?;
        }
    }
    Ok(())
}

fn keys_of(rows: &[tokio_postgres::Row]) -> Vec<DeliveryKey> {
    rows.iter()
        .map(|r| DeliveryKey {
            endpoint: r.get(0),
            event_seq: unbig(r.get(1)),
        })
        .collect()
}

async fn claim(tx: &Tx<'_>, node: &str, now_ms: u64, limit: i64) -> TxResult<Vec<DeliveryKey>> {
    // This node's live claims first, when their own due time (kept in the record) has
    // come: attempts in flight (the dispatcher skips those it is running) or whose
    // outcome could not be recorded (tried again at once, not when the claim lapses, as
    // the embedded backend would). Read only; their lease stands.
    let mut keys = keys_of(
        &tx.rows(
            "SELECT endpoint, event_seq FROM webhook_deliveries
             WHERE lease_owner = $1 AND due_at_ms > $2
               AND CAST(doc->>'next_attempt_at_ms' AS BIGINT) <= $2
             ORDER BY due_at_ms, endpoint, event_seq LIMIT $3",
            &[&node, &big(now_ms), &limit],
        )
        .await?,
    );
    let room = limit.saturating_sub(i64::try_from(keys.len()).unwrap_or(i64::MAX));
    if room <= 0 {
        return Ok(keys);
    }
    let new = keys_of(
        &tx.rows(
            "SELECT endpoint, event_seq FROM webhook_deliveries WHERE due_at_ms <= $1
             ORDER BY due_at_ms, endpoint, event_seq LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&big(now_ms), &room],
        )
        .await?,
    );
    if new.is_empty() {
        return Ok(keys);
    }
    let endpoints: Vec<&str> = new.iter().map(|k| k.endpoint.as_str()).collect();
    let seqs: Vec<i64> = new.iter().map(|k| big(k.event_seq)).collect();
    let until = big(now_ms.saturating_add(DELIVERY_LEASE_MS));
    tx.exec(
        "UPDATE webhook_deliveries AS d SET lease_owner = $3, lease_until_ms = $4, due_at_ms = $4
         FROM unnest($1::TEXT[], $2::BIGINT[]) AS k(endpoint, event_seq)
         WHERE d.endpoint = k.endpoint AND d.event_seq = k.event_seq",
        &[&endpoints, &seqs, &node, &until],
    )
    .await?;
    keys.extend(new);
    Ok(keys)
}

async fn record(tx: &Tx<'_>, node: &str, a: &AttemptOutcome) -> TxResult<bool> {
    let ep = a.key.endpoint.as_str();
    let Some((mut d, owner)) = delivery(tx, ep, a.key.event_seq).await? else {
        return Ok(false);
    };
    if d.status != DeliveryStatus::Pending || owner.is_some_and(|o| o != node) {
        return Ok(false);
    }
    if d.log.len() >= MAX_ATTEMPT_RECORDS {
        d.log.remove(0);
    }
    d.log.push(a.record.clone());
    d.attempts += 1;
    d.schedule_attempts += 1;
    d.updated_at_ms = a.now_ms;
    match (a.delivered, a.retry_at_ms) {
        (false, Some(at)) => {
            d.next_attempt_at_ms = Some(at);
            put_delivery(tx, &d).await?;
        }
        (delivered, _) => {
            d.status = if delivered {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            };
            d.next_attempt_at_ms = None;
            put_delivery(tx, &d).await?;
            promote_head(tx, &d, a.now_ms).await?;
            if !delivered {
                let reason = format!(
                    "event {} could not be delivered after {} attempts ({})",
                    d.event_id,
                    d.schedule_attempts,
                    a.record.error.as_deref().unwrap_or("no 2xx answer")
                );
                disable_endpoint(tx, ep, &reason, a.now_ms).await?;
            }
        }
    }
    Ok(true)
}

/// Disables an endpoint: its pending deliveries are given up (the events stay in the log
/// for `GET /v1/events` and redelivery), and `endpoint.disabled` is published (numbered
/// by the sequencer, which queues it for the tenant's other endpoints).
pub async fn disable_endpoint(tx: &Tx<'_>, id: &str, reason: &str, now_ms: u64) -> TxResult<()> {
    let Some(mut e) = endpoint_in(tx, id).await? else {
        return Ok(());
    };
    if e.disabled.is_some() {
        return Ok(());
    }
    e.disabled = Some(Disabled {
        reason: reason.to_owned(),
        at_ms: now_ms,
    });
    put_endpoint(tx, &e).await?;
    let pending = tx
        .rows(
            "SELECT doc FROM webhook_deliveries WHERE endpoint = $1 AND pending",
            &[&id],
        )
        .await?;
    for r in pending {
        let mut d: Delivery = from_doc("webhook_deliveries", r.get(0))?;
        d.next_attempt_at_ms = None;
        d.status = DeliveryStatus::Failed;
        d.updated_at_ms = now_ms;
        put_delivery(tx, &d).await?;
    }
    let data = json!({
        "id": e.id,
        "object": "webhook_endpoint",
        "url": e.url,
        "reason": reason,
        "disabled_at": crate::clock::rfc3339(now_ms),
    });
    publish(
        tx,
        now_ms,
        &e.tenant,
        EventType::EndpointDisabled,
        Some(&e.id),
        data,
    )
    .await
}

async fn redeliver(tx: &Tx<'_>, tenant: &str, seq: u64, now_ms: u64) -> TxResult<Redelivery> {
    let Some(r) = tx.row(PUBLIC_EVENT, &[&tenant, &big(seq)]).await? else {
        return Ok(Redelivery::NoEvent);
    };
    let event = public_event_of(r)?;
    let mut queued = Vec::new();
    for e in endpoints_of(tx, tenant).await? {
        if e.disabled.is_some() || !e.wants(event.event_type) {
            continue;
        }
        let existing = delivery(tx, &e.id, seq).await?.map(|(d, _)| d);
        if existing
            .as_ref()
            .is_some_and(|d| d.status == DeliveryStatus::Pending)
        {
            queued.push(e.id);
            continue;
        }
        let d = match existing {
            Some(mut d) => {
                d.schedule_attempts = 0;
                d.updated_at_ms = now_ms;
                d
            }
            None => Delivery {
                endpoint: e.id.clone(),
                event_seq: seq,
                event_id: event.id.clone(),
                event_type: event.event_type,
                queue: event.subject.clone().unwrap_or_else(|| event.id.clone()),
                status: DeliveryStatus::Pending,
                attempts: 0,
                schedule_attempts: 0,
                next_attempt_at_ms: None,
                log: Vec::new(),
                created_at_ms: now_ms,
                updated_at_ms: now_ms,
            },
        };
        enqueue(tx, d, now_ms).await?;
        queued.push(e.id);
    }
    Ok(if queued.is_empty() {
        Redelivery::NoEndpoint
    } else {
        Redelivery::Queued(queued)
    })
}

impl PgStore {
    /// This node's claimed deliveries not yet recorded, then deliveries due at or before
    /// `now_ms`, earliest first, at most `limit` in all; the latter are claimed for this
    /// node until `now_ms + DELIVERY_LEASE_MS`: no other node gets them until the attempt
    /// is recorded or the claim lapses. Rows another node is claiming at the same moment
    /// are skipped (`FOR UPDATE SKIP LOCKED`), not waited for.
    pub async fn due_deliveries(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeliveryKey>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.transaction(
            &(self.node_id(), now_ms, limit),
            |tx, (node, now, limit)| Box::pin(claim(tx, node, *now, *limit)),
        )
        .await
    }

    /// Records an attempt's outcome (see `AttemptOutcome`): delivered (the queue's next
    /// event becomes due), failed with a retry time, or failed for good (the endpoint is
    /// disabled). `false`, changing nothing, if the delivery is no longer pending or
    /// another node holds its claim.
    pub async fn record_delivery_attempt(
        &self,
        outcome: AttemptOutcome,
    ) -> Result<bool, StoreError> {
        let done = self
            .transaction(&(self.node_id(), outcome), |tx, (node, a)| {
                Box::pin(record(tx, node, a))
            })
            .await?;
        if done {
            self.deliveries_waker().notify_one();
        }
        Ok(done)
    }

    /// Queues a numbered event again for the tenant's enabled endpoints that take its
    /// type (one already pending stays as it is; the retry schedule starts over).
    pub async fn redeliver_event(
        &self,
        tenant: &str,
        tenant_seq: u64,
        now_ms: u64,
    ) -> Result<Redelivery, StoreError> {
        let r = self
            .transaction(&(tenant, tenant_seq, now_ms), |tx, (tenant, seq, now)| {
                Box::pin(redeliver(tx, tenant, *seq, *now))
            })
            .await?;
        if matches!(r, Redelivery::Queued(_)) {
            self.deliveries_waker().notify_one();
        }
        Ok(r)
    }
}
