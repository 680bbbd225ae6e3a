//! Second real-person verification inside the writer's transaction: a line opening in
//! `pending_verification`, a verification result, and the deadline sweep. What each does
//! is decided by `store/records/reverify.rs` (and the machine under it); this file reads
//! and writes the rows: the line, the `REVERIFY_DUE` index, the audit record, the event,
//! and the `regulatory` order through `create_lifecycle`.

use super::apply::{Tables, TxResult, backend};
use super::tables::REVERIFY_DUE;
use super::writer::{Command, Reply};
use super::{RedbStore, unexpected};
use crate::compliance::reverify::{Event, Verification};
use crate::order::Order;
use crate::store::*;
use ::redb::ReadableTable;

/// Commands of this file (see the `Store` methods of the same names).
pub enum ReverifyCommand {
    /// `Store::record_verification`.
    Record(Box<NewVerification>),
    /// `Store::expire_reverifications`.
    Expire(u64, Planner),
    /// `Store::record_handset` (`handset.rs`).
    Handset(Box<NewHandset>),
}

/// Answers of [`ReverifyCommand`]s.
#[derive(Debug)]
pub enum ReverifyReply {
    /// A result's outcome.
    Recorded(Box<VerificationOutcome>),
    /// The suspend orders a sweep created.
    Expired(Vec<Order>),
    /// A handset report's outcome.
    Handset(Box<HandsetOutcome>),
}

impl RedbStore {
    /// See [`Store::record_verification`].
    pub(super) async fn submit_verification(
        &self,
        v: NewVerification,
    ) -> Result<VerificationOutcome, StoreError> {
        let cmd = ReverifyCommand::Record(Box::new(v));
        match self.submit(Command::Reverify(cmd)).await? {
            Reply::Reverify(ReverifyReply::Recorded(o)) => Ok(*o),
            r => Err(unexpected(r)),
        }
    }

    /// See [`Store::next_reverify_deadline`].
    pub(super) fn read_next_reverify(&self) -> Result<Option<u64>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(REVERIFY_DUE).map_err(backend)?;
            Ok(t.first().map_err(backend)?.map(|(k, _)| k.value().0))
        })
    }

    /// See [`Store::expire_reverifications`].
    pub(super) async fn submit_expire_reverify(
        &self,
        now_ms: u64,
        plan: Planner,
    ) -> Result<Vec<Order>, StoreError> {
        let cmd = ReverifyCommand::Expire(now_ms, plan);
        match self.submit(Command::Reverify(cmd)).await? {
            Reply::Reverify(ReverifyReply::Expired(o)) => Ok(o),
            r => Err(unexpected(r)),
        }
    }
}

impl Tables<'_> {
    /// A reverify command.
    pub(super) fn reverify_command(&mut self, cmd: &ReverifyCommand) -> TxResult<ReverifyReply> {
        Ok(match cmd {
            ReverifyCommand::Record(v) => {
                ReverifyReply::Recorded(Box::new(self.record_verification(v)?))
            }
            ReverifyCommand::Expire(now, plan) => {
                ReverifyReply::Expired(self.expire_reverifications(*now, *plan)?)
            }
            ReverifyCommand::Handset(h) => {
                ReverifyReply::Handset(Box::new(self.record_handset(h)?))
            }
        })
    }

    /// A line just opened by `activation`: if it opens pending, its deadline is indexed,
    /// the decision audited and `subscription.verification_required` published.
    pub(super) fn verification_opened(
        &mut self,
        sub: &Subscription,
        activation: &Order,
    ) -> TxResult<()> {
        let Some(deadline) = sub.verification.deadline_ms() else {
            return Ok(());
        };
        self.reverify_due
            .insert((deadline, sub.id.as_str()), ())
            .map_err(backend)?;
        self.verification_required(sub, activation)
    }

    /// Audits line `sub`'s entry into `pending_verification` because of `order` and
    /// publishes `subscription.verification_required`.
    fn verification_required(&mut self, sub: &Subscription, order: &Order) -> TxResult<()> {
        if let Some(record) = required_audit(sub, order) {
            self.compliance.append_audit(record)?;
        }
        let data = verification_event_data(sub, Some(&order.id));
        self.publish(
            order.updated_at_ms,
            &sub.tenant,
            EventType::SubscriptionVerificationRequired,
            Some(&sub.id),
            data,
        )
    }

    /// A completed lifecycle order that hit a risk rule (a SIM swap) flags its line in
    /// the same commit: `sub` (written by the caller) gets the new state, the deadline
    /// index follows, and a line that becomes pending is audited and announced.
    pub(super) fn flag_on_completion(
        &mut self,
        sub: &mut Subscription,
        order: &Order,
    ) -> TxResult<()> {
        let Some(change) = completion_flag(sub, order) else {
            return Ok(());
        };
        self.reindex(&sub.id, &change)?;
        change.apply_to(sub);
        if change.index.is_some() {
            self.verification_required(sub, order)?;
        }
        Ok(())
    }

    /// See [`Store::record_verification`].
    fn record_verification(&mut self, v: &NewVerification) -> TxResult<VerificationOutcome> {
        let reject = |r| Ok(VerificationOutcome::Rejected(r));
        let line = self.subscription_by_msisdn(v.msisdn.as_str())?;
        let (before, change, new) = match verification_change(line, v) {
            Ok(c) => c,
            Err(outcome) => return Ok(outcome),
        };
        // The order, if one is needed, is created first: it checks everything before it
        // writes, so a refusal leaves the whole command unwritten.
        let order = match new {
            None => None,
            Some(new) => {
                match self.create_lifecycle(&new)? {
                    LifecycleOutcome::Created(o) => Some(o),
                    LifecycleOutcome::Rejected(r) => return reject(r),
                    // A fresh order id under a key of its own: neither happens.
                    LifecycleOutcome::Replayed(_) | LifecycleOutcome::KeyReused => {
                        return Err(backend("verification order id reused"));
                    }
                }
            }
        };
        let activation: Option<Order> =
            Self::get_json(&self.orders, "orders", &before.activation_id)?;
        let record = result_audit(&before, v, activation.as_ref(), order.as_ref());
        let sub = self.apply_line_change(&before.id, &change, v.now_ms)?;
        self.compliance.append_audit(record)?;
        if v.result == VerifierResult::Passed {
            let data = verification_event_data(&sub, order.as_ref().map(|o| o.id.as_str()));
            self.publish(
                v.now_ms,
                &sub.tenant,
                EventType::SubscriptionVerified,
                Some(&sub.id),
                data,
            )?;
        }
        Ok(VerificationOutcome::Recorded {
            subscription: Box::new(sub),
            order: order.map(Box::new),
        })
    }

    /// Writes `change` to line `id` as it is now (an order created in this command may
    /// have marked it busy) and keeps the deadline index in step; returns the line.
    fn apply_line_change(
        &mut self,
        id: &str,
        change: &LineChange,
        now_ms: u64,
    ) -> TxResult<Subscription> {
        let mut sub: Subscription = Self::get_json(&self.subscriptions, "subscriptions", id)?
            .ok_or_else(|| StoreError::Corrupt {
                table: "subscriptions",
                message: format!("subscription {id} is missing"),
            })?;
        self.reindex(id, change)?;
        change.apply_to(&mut sub);
        sub.updated_at_ms = now_ms;
        self.put_subscription(&sub)?;
        Ok(sub)
    }

    /// Moves line `id`'s entry in the deadline index as `change` says.
    pub(super) fn reindex(&mut self, id: &str, change: &LineChange) -> TxResult<()> {
        if let Some(d) = change.unindex {
            self.reverify_due.remove((d, id)).map_err(backend)?;
        }
        if let Some(d) = change.index {
            self.reverify_due.insert((d, id), ()).map_err(backend)?;
        }
        Ok(())
    }

    /// See [`Store::expire_reverifications`].
    fn expire_reverifications(&mut self, now_ms: u64, plan: Planner) -> TxResult<Vec<Order>> {
        let mut due = Vec::new();
        for row in self
            .reverify_due
            .range((0u64, "")..(now_ms.saturating_add(1), ""))
            .map_err(backend)?
            .take(EXPIRE_BATCH)
        {
            let (k, _) = row.map_err(backend)?;
            let (at, id) = k.value();
            due.push((at, id.to_owned()));
        }
        let mut created = Vec::new();
        for (at, id) in due {
            self.reverify_due
                .remove((at, id.as_str()))
                .map_err(backend)?;
            if let Some(o) = self.expire_line((at, &id), now_ms, plan)? {
                created.push(o);
            }
        }
        Ok(created)
    }

    /// One due line: suspended (with its order) if its deadline passed, looked at again
    /// later if another order is in flight on it, left alone if the entry is stale.
    fn expire_line(
        &mut self,
        (at, id): (u64, &str),
        now_ms: u64,
        plan: Planner,
    ) -> TxResult<Option<Order>> {
        let Some(before) =
            Self::get_json::<Subscription>(&self.subscriptions, "subscriptions", id)?
        else {
            return Ok(None);
        };
        let Ok(change) = line_change(&before, Event::Tick, 0, now_ms) else {
            return Ok(None);
        };
        if change.next == before.verification && change.order.is_some() {
            // The suspend the timer ordered failed: ordered again, under this entry.
            return Ok(match self.expiry_suspend(&before, at, now_ms, plan)? {
                Expiry::Created(o) => Some(*o),
                Expiry::Busy | Expiry::Nothing => None,
            });
        }
        if change.next == before.verification {
            // Early or stale: keep the line's own deadline listed (this entry is gone).
            if let Some(d) = before.verification.deadline_ms() {
                self.reverify_due
                    .insert((d, before.id.as_str()), ())
                    .map_err(backend)?;
            }
            return Ok(None);
        }
        if !matches!(before.verification, Verification::Pending { .. }) {
            // A terminated line's stale state: cleared, nothing to suspend.
            self.apply_line_change(id, &change, now_ms)?;
            return Ok(None);
        }
        let deadline = before.verification.deadline_ms().unwrap_or(now_ms);
        let mut order = None;
        if change.order.is_some() {
            match self.expiry_suspend(&before, deadline, now_ms, plan)? {
                Expiry::Created(o) => order = Some(*o),
                Expiry::Busy => return Ok(None),
                Expiry::Nothing => {}
            }
        }
        let activation: Option<Order> =
            Self::get_json(&self.orders, "orders", &before.activation_id)?;
        let record = expired_audit(
            &before,
            activation.as_ref(),
            order.as_ref().map(|o| o.id.as_str()),
            now_ms,
        );
        self.apply_line_change(id, &change, now_ms)?;
        self.compliance.append_audit(record)?;
        Ok(order)
    }

    /// Creates the `regulatory` suspend of line `before` (its id and key seeded by
    /// `seed_ms`: the deadline, or the retry entry's time). A line busy with another
    /// order is listed again [`BUSY_RETRY_MS`] later.
    fn expiry_suspend(
        &mut self,
        before: &Subscription,
        seed_ms: u64,
        now_ms: u64,
        plan: Planner,
    ) -> TxResult<Expiry> {
        let new = expiry_order(before, seed_ms, now_ms, plan);
        Ok(match self.create_lifecycle(&new)? {
            LifecycleOutcome::Created(o) => Expiry::Created(Box::new(o)),
            LifecycleOutcome::Rejected(LifecycleRejection::Busy(_)) => {
                let retry = now_ms.saturating_add(BUSY_RETRY_MS);
                self.reverify_due
                    .insert((retry, before.id.as_str()), ())
                    .map_err(backend)?;
                Expiry::Busy
            }
            // Created by an earlier sweep (replayed), or the line holds the reason
            // already: nothing more to order.
            LifecycleOutcome::Replayed(_)
            | LifecycleOutcome::KeyReused
            | LifecycleOutcome::Rejected(_) => Expiry::Nothing,
        })
    }
}

/// What [`Tables::expiry_suspend`] did.
enum Expiry {
    /// The suspend order was created.
    Created(Box<Order>),
    /// Another order is in flight on the line: listed again later, nothing else written.
    Busy,
    /// Nothing to order.
    Nothing,
}
