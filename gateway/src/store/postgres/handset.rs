//! A handset report on PostgreSQL (embedded `handset.rs`): one transaction reads the
//! line, its tenant and the IMEI blocklist, and writes what `records::handset` decides:
//! the line, the deadline index, the audit record and `subscription.verification_required`
//! when a rule flagged the line. A repeated report writes nothing.

use super::PgStore;
use super::audit_chain;
use super::compliance::blocklist_hits;
use super::events::publish;
use super::lines;
use super::pool::tenant_in;
use super::retry::{Tx, TxResult};
use super::reverify::{activation_of, reindex};
use crate::compliance::blocklist::ListKind;
use crate::store::*;

impl PgStore {
    /// See `Store::record_handset`.
    pub(super) async fn record_handset(&self, h: NewHandset) -> Result<HandsetOutcome, StoreError> {
        let out = self
            .transaction(&h, |tx, h| Box::pin(record(tx, h)))
            .await?;
        if matches!(out, HandsetOutcome::Recorded { written: true, .. }) {
            self.wake_sequencer();
        }
        Ok(out)
    }
}

async fn record(tx: &Tx<'_>, h: &NewHandset) -> TxResult<HandsetOutcome> {
    let line = lines::by_msisdn(tx, h.msisdn.as_str()).await?;
    let before = match handset_line(line, h) {
        Ok(l) => l,
        Err(outcome) => return Ok(outcome),
    };
    let tenant = tenant_in(tx, &h.tenant).await?;
    let enterprise = tenant
        .as_ref()
        .map_or(h.tenant.as_str(), |t| t.enterprise());
    let subjects: Vec<(ListKind, String)> = h
        .blocklist
        .iter()
        .map(|v| (ListKind::Imei, v.clone()))
        .collect();
    let blocked = !blocklist_hits(tx, enterprise, &subjects, h.now_ms)
        .await?
        .is_empty();
    let change = handset_change(&before, tenant.as_deref(), h, blocked);
    if change.seen.is_none() {
        return Ok(change.outcome(before));
    }
    let mut sub = before.clone();
    change.apply_to(&mut sub, h);
    if let Some(c) = &change.line {
        reindex(tx, &sub.id, c).await?;
    }
    let activation = activation_of(tx, &before).await?;
    if let Some(record) = change.audit(&before, activation.as_ref(), h) {
        audit_chain::append(tx, &record).await?;
    }
    if change.flags() {
        let data = verification_event_data(&sub, None);
        let t = EventType::SubscriptionVerificationRequired;
        publish(tx, h.now_ms, &sub.tenant, t, Some(&sub.id), data).await?;
    }
    lines::put(tx, &sub).await?;
    Ok(change.outcome(sub))
}
