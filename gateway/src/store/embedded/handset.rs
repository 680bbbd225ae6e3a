//! A handset report inside the writer's transaction (`Store::record_handset`): the line,
//! its tenant and the IMEI blocklist read, what the report does decided by
//! `store/records/handset.rs`, and the rows written: the line, the deadline index, the
//! audit record and `subscription.verification_required` when a rule flagged the line.

use super::RedbStore;
use super::apply::{Tables, TxResult};
use super::reverify::{ReverifyCommand, ReverifyReply};
use super::writer::{Command, Reply};
use crate::compliance::blocklist::ListKind;
use crate::order::Order;
use crate::store::*;

impl RedbStore {
    /// See [`Store::record_handset`].
    pub(super) async fn submit_handset(&self, h: NewHandset) -> Result<HandsetOutcome, StoreError> {
        let cmd = ReverifyCommand::Handset(Box::new(h));
        match self.submit(Command::Reverify(cmd)).await? {
            Reply::Reverify(ReverifyReply::Handset(o)) => Ok(*o),
            r => Err(super::unexpected(r)),
        }
    }
}

impl Tables<'_> {
    /// See [`Store::record_handset`].
    pub(super) fn record_handset(&mut self, h: &NewHandset) -> TxResult<HandsetOutcome> {
        let line = self.subscription_by_msisdn(h.msisdn.as_str())?;
        let before = match handset_line(line, h) {
            Ok(l) => l,
            Err(outcome) => return Ok(outcome),
        };
        let tenant = self.tenant(&h.tenant)?;
        let enterprise = tenant
            .as_ref()
            .map_or(h.tenant.as_str(), |t| t.enterprise());
        let blocked =
            self.compliance
                .blocklisted(enterprise, ListKind::Imei, &h.blocklist, h.now_ms)?;
        let change = handset_change(&before, tenant.as_deref(), h, blocked);
        if change.seen.is_none() {
            return Ok(change.outcome(before));
        }
        let mut sub = before.clone();
        change.apply_to(&mut sub, h);
        if let Some(c) = &change.line {
            self.reindex(&sub.id, c)?;
        }
        let activation: Option<Order> =
            Self::get_json(&self.orders, "orders", &before.activation_id)?;
        if let Some(record) = change.audit(&before, activation.as_ref(), h) {
            self.compliance.append_audit(record)?;
        }
        if change.flags() {
            self.publish(
                h.now_ms,
                &sub.tenant,
                EventType::SubscriptionVerificationRequired,
                Some(&sub.id),
                verification_event_data(&sub, None),
            )?;
        }
        self.put_subscription(&sub)?;
        Ok(change.outcome(sub))
    }
}
