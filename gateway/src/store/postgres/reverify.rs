//! Second real-person verification on PostgreSQL (embedded `reverify.rs`): a line opening
//! in `pending_verification` (called by `lines::open` in the activation's commit), a
//! verification result, and the deadline sweep, over the shared `records::reverify`
//! (`line_change`, `line_order`, `expiry_order`, the audit records and event payloads).
//! `reverify_due` (migration 5) is the deadline index; `copy_derive` rebuilds it from the
//! lines' `verification`.
//!
//! The sweep handles each due line in a transaction of its own, so two nodes sweeping at
//! once meet on one line's rows at most (one fails to serialize and, run again, finds the
//! row gone), and a line whose order is refused rolls back alone: it is then looked at
//! again later rather than holding up the others.

use super::PgStore;
use super::audit_chain;
use super::codec::{big, unbig};
use super::events::publish;
use super::lifecycle;
use super::lines;
use super::order_leases::Owner;
use super::orders;
use super::retry::{Tx, TxResult, db_error};
use crate::compliance::reverify::{Event, Verification};
use crate::order::Order;
use crate::store::*;

/// A line just opened by `activation` (same commit): if it opens pending, its deadline is
/// indexed, the decision audited and `subscription.verification_required` published.
pub async fn opened(tx: &Tx<'_>, sub: &Subscription, activation: &Order) -> TxResult<()> {
    let Some(deadline) = sub.verification.deadline_ms() else {
        return Ok(());
    };
    index(tx, deadline, &sub.id).await?;
    required(tx, sub, activation).await
}

/// Audits line `sub`'s entry into `pending_verification` because of `order` and
/// publishes `subscription.verification_required`.
async fn required(tx: &Tx<'_>, sub: &Subscription, order: &Order) -> TxResult<()> {
    if let Some(record) = required_audit(sub, order) {
        audit_chain::append(tx, &record).await?;
    }
    let data = verification_event_data(sub, Some(&order.id));
    publish(
        tx,
        order.updated_at_ms,
        &sub.tenant,
        EventType::SubscriptionVerificationRequired,
        Some(&sub.id),
        data,
    )
    .await
}

/// A failed `regulatory` suspend the timer ordered, on a line that must still be
/// suspended, is listed to be ordered again (`suspend_retry_at`).
pub async fn retry_suspend(tx: &Tx<'_>, sub: &Subscription, order: &Order) -> TxResult<()> {
    match suspend_retry_at(sub, order) {
        Some(at) => index(tx, at, &sub.id).await,
        None => Ok(()),
    }
}

/// A completed lifecycle order that hit a risk rule (a SIM swap) flags its line in the
/// same commit (embedded `flag_on_completion`): `sub` (written by the caller) gets the
/// new state, the index follows, and a line that becomes pending is audited and
/// announced.
pub async fn flag_on_completion(
    tx: &Tx<'_>,
    sub: &mut Subscription,
    order: &Order,
) -> TxResult<()> {
    let Some(change) = completion_flag(sub, order) else {
        return Ok(());
    };
    reindex(tx, &sub.id, &change).await?;
    change.apply_to(sub);
    if change.index.is_some() {
        required(tx, sub, order).await?;
    }
    Ok(())
}

async fn index(tx: &Tx<'_>, due_ms: u64, id: &str) -> TxResult<()> {
    tx.exec(
        "INSERT INTO reverify_due (due_ms, subscription) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&big(due_ms), &id],
    )
    .await?;
    Ok(())
}

async fn unindex(tx: &Tx<'_>, due_ms: u64, id: &str) -> TxResult<()> {
    tx.exec(
        "DELETE FROM reverify_due WHERE due_ms = $1 AND subscription = $2",
        &[&big(due_ms), &id],
    )
    .await?;
    Ok(())
}

/// Moves line `id`'s entry in the deadline index as `change` says.
pub(super) async fn reindex(tx: &Tx<'_>, id: &str, change: &LineChange) -> TxResult<()> {
    if let Some(d) = change.unindex {
        unindex(tx, d, id).await?;
    }
    if let Some(d) = change.index {
        index(tx, d, id).await?;
    }
    Ok(())
}

/// Writes `change` to line `id` as it is now (an order created in this transaction may
/// have marked it busy) and keeps the index in step; returns the line.
async fn apply(tx: &Tx<'_>, id: &str, change: &LineChange, now_ms: u64) -> TxResult<Subscription> {
    let mut sub = lines::get(tx, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            table: "subscriptions",
            message: format!("subscription {id} is missing"),
        })?;
    reindex(tx, id, change).await?;
    change.apply_to(&mut sub);
    sub.updated_at_ms = now_ms;
    lines::put(tx, &sub).await?;
    Ok(sub)
}

pub(super) async fn activation_of(tx: &Tx<'_>, sub: &Subscription) -> TxResult<Option<Order>> {
    Ok(orders::get(tx, &sub.activation_id).await?.map(|r| r.order))
}

async fn record(
    tx: &Tx<'_>,
    v: &NewVerification,
    owner: Owner<'_>,
) -> TxResult<VerificationOutcome> {
    let reject = |r| Ok(VerificationOutcome::Rejected(r));
    let line = lines::by_msisdn(tx, v.msisdn.as_str()).await?;
    let (before, change, new) = match verification_change(line, v) {
        Ok(c) => c,
        Err(outcome) => return Ok(outcome),
    };
    // The order, if one is needed, is created first: it checks everything before it
    // writes, so a refusal leaves the whole command unwritten.
    let order = match new {
        None => None,
        Some(new) => match lifecycle::create(tx, &new, owner).await? {
            LifecycleOutcome::Created(o) => Some(o),
            LifecycleOutcome::Rejected(r) => return reject(r),
            LifecycleOutcome::Replayed(_) | LifecycleOutcome::KeyReused => {
                return Err(StoreError::Backend("verification order id reused".into()).into());
            }
        },
    };
    let activation = activation_of(tx, &before).await?;
    let audit = result_audit(&before, v, activation.as_ref(), order.as_ref());
    let sub = apply(tx, &before.id, &change, v.now_ms).await?;
    audit_chain::append(tx, &audit).await?;
    if v.result == VerifierResult::Passed {
        let data = verification_event_data(&sub, order.as_ref().map(|o| o.id.as_str()));
        publish(
            tx,
            v.now_ms,
            &sub.tenant,
            EventType::SubscriptionVerified,
            Some(&sub.id),
            data,
        )
        .await?;
    }
    Ok(VerificationOutcome::Recorded {
        subscription: Box::new(sub),
        order: order.map(Box::new),
    })
}

/// What the sweep did with one due line.
enum Swept {
    /// Nothing to order (stale entry, already suspended for the reason, cleared).
    Done,
    /// Suspended by this order.
    Ordered(Box<Order>),
    /// Not now (another order in flight, or the order was refused): look again later.
    Later,
}

/// One due line (its index entry `(due, id)`) at `now_ms`.
async fn expire_line(
    tx: &Tx<'_>,
    (due, id): (u64, &str),
    now_ms: u64,
    plan: Planner,
    owner: Owner<'_>,
) -> TxResult<Swept> {
    unindex(tx, due, id).await?;
    let Some(before) = lines::get(tx, id).await? else {
        return Ok(Swept::Done);
    };
    let Ok(change) = line_change(&before, Event::Tick, 0, now_ms) else {
        return Ok(Swept::Done);
    };
    if change.next == before.verification && change.order.is_some() {
        // The suspend the timer ordered failed: ordered again, under this entry.
        if before.inflight.is_some() {
            index(tx, now_ms.saturating_add(BUSY_RETRY_MS), id).await?;
            return Ok(Swept::Done);
        }
        let new = expiry_order(&before, due, now_ms, plan);
        return Ok(match lifecycle::create(tx, &new, owner).await? {
            LifecycleOutcome::Created(o) => Swept::Ordered(Box::new(o)),
            LifecycleOutcome::Rejected(_) => Swept::Later,
            LifecycleOutcome::Replayed(_) | LifecycleOutcome::KeyReused => Swept::Done,
        });
    }
    if change.next == before.verification {
        // Early or stale: keep the line's own deadline listed.
        if let Some(d) = before.verification.deadline_ms() {
            index(tx, d, id).await?;
        }
        return Ok(Swept::Done);
    }
    if !matches!(before.verification, Verification::Pending { .. }) {
        apply(tx, id, &change, now_ms).await?;
        return Ok(Swept::Done);
    }
    let mut order = None;
    if change.order.is_some() {
        if before.inflight.is_some() {
            index(tx, now_ms.saturating_add(BUSY_RETRY_MS), id).await?;
            return Ok(Swept::Done);
        }
        let deadline = before.verification.deadline_ms().unwrap_or(now_ms);
        let new = expiry_order(&before, deadline, now_ms, plan);
        match lifecycle::create(tx, &new, owner).await? {
            LifecycleOutcome::Created(o) => order = Some(o),
            // Refused (rolled back): the caller looks again later.
            LifecycleOutcome::Rejected(_) => return Ok(Swept::Later),
            LifecycleOutcome::Replayed(_) | LifecycleOutcome::KeyReused => {}
        }
    }
    let activation = activation_of(tx, &before).await?;
    let audit = expired_audit(
        &before,
        activation.as_ref(),
        order.as_ref().map(|o| o.id.as_str()),
        now_ms,
    );
    apply(tx, id, &change, now_ms).await?;
    audit_chain::append(tx, &audit).await?;
    Ok(order.map_or(Swept::Done, |o| Swept::Ordered(Box::new(o))))
}

async fn reschedule(tx: &Tx<'_>, (due, id): (u64, &str), at: u64) -> TxResult<()> {
    unindex(tx, due, id).await?;
    index(tx, at, id).await
}

impl PgStore {
    /// See `Store::record_verification`.
    pub(super) async fn record_verification(
        &self,
        v: NewVerification,
    ) -> Result<VerificationOutcome, StoreError> {
        let out = self
            .transaction(&(v, self.owner()), |tx, (v, owner)| {
                Box::pin(record(tx, v, *owner))
            })
            .await?;
        if matches!(out, VerificationOutcome::Recorded { .. }) {
            self.wake_sequencer();
        }
        Ok(out)
    }

    /// See `Store::next_reverify_deadline`.
    pub(super) async fn next_reverify_deadline(&self) -> Result<Option<u64>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT due_ms FROM reverify_due ORDER BY due_ms LIMIT 1")
            .await
            .map_err(|e| db_error(&e))?;
        Ok(c.query_opt(&st, &[])
            .await
            .map_err(|e| db_error(&e))?
            .map(|r| unbig(r.get(0))))
    }

    /// See `Store::expire_reverifications`: the due lines read, then each in its own
    /// transaction.
    pub(super) async fn expire_reverifications(
        &self,
        now_ms: u64,
        plan: Planner,
    ) -> Result<Vec<Order>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT due_ms, subscription FROM reverify_due WHERE due_ms <= $1
                 ORDER BY due_ms, subscription LIMIT $2",
            )
            .await
            .map_err(|e| db_error(&e))?;
        let limit = i64::try_from(EXPIRE_BATCH).unwrap_or(i64::MAX);
        let due: Vec<(u64, String)> = c
            .query(&st, &[&big(now_ms), &limit])
            .await
            .map_err(|e| db_error(&e))?
            .iter()
            .map(|r| (unbig(r.get(0)), r.get(1)))
            .collect();
        drop(c);
        let mut created = Vec::new();
        for (at, id) in due {
            let swept = self
                .transaction(
                    &((at, id.as_str()), now_ms, plan, self.owner()),
                    |tx, (entry, now, plan, owner)| {
                        Box::pin(expire_line(tx, *entry, *now, *plan, *owner))
                    },
                )
                .await?;
            match swept {
                Swept::Done => {}
                Swept::Ordered(o) => created.push(*o),
                Swept::Later => {
                    let retry = now_ms.saturating_add(BUSY_RETRY_MS);
                    self.transaction(&((at, id.as_str()), retry), |tx, (entry, retry)| {
                        Box::pin(reschedule(tx, *entry, *retry))
                    })
                    .await?;
                }
            }
        }
        self.wake_sequencer();
        Ok(created)
    }
}
