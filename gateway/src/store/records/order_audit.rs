//! The audit records an order's own writes produce (issue 15: "every order state change,
//! verifier outcome … and operator action"), pure so that both backends append the same
//! records in the commit that makes the change: a lifecycle order's creation (who asked
//! what of which line), each status change, and the identity verifier's decision.
//!
//! Lifecycle orders carry a compliance part of their own, copied in the creating commit
//! from the line's activation (its enterprise and ID hash) and the tenant's policy as it
//! is then: their records name the same subject as the line's activation, and the annual
//! report counts them where the line was sold (by their `line` attribute, the
//! activation that opened it).

use super::{OrderCompliance, Tenant};
use crate::compliance::audit::{Actor, AuditRecord, Outcome, Subject};
use crate::compliance::risk::{self, LineEvent};
use crate::order::{IdentityStatus, Order, OrderKind};

/// The compliance part of a new lifecycle order of `kind` on the line `activation`
/// opened (`None` when the tenant's policy cannot be resolved: the order is then not
/// audited, as before this part existed). A SIM swap records the policy's risk hits
/// (`risk:<rule>:<facts>`), which put the line into re-verification when it completes.
pub fn lifecycle_compliance(
    kind: OrderKind,
    tenant: &Tenant,
    activation: Option<&Order>,
) -> Option<OrderCompliance> {
    let policy = tenant.policy().ok()?;
    let line = activation.and_then(|a| a.compliance.as_ref());
    let risk = match kind {
        OrderKind::SimSwap => risk::on_line_event(&policy.risk, &LineEvent::SimSwap)
            .iter()
            .map(|h| format!("risk:{}:{}", h.rule.as_str(), h.detail))
            .collect(),
        _ => Vec::new(),
    };
    Some(OrderCompliance {
        enterprise: line.map_or_else(|| tenant.enterprise().to_owned(), |c| c.enterprise.clone()),
        id_hash: line.and_then(|c| c.id_hash.clone()),
        policy_version: policy.version.clone(),
        risk,
        verify: None,
        reverify_after_ms: policy.reverify_deadline_ms,
        line: activation.map(|a| a.id.clone()),
        handset: None,
    })
}

/// The subject of `order`'s records: its card and number, and the line's ID hash.
fn subject(order: &Order, id_hash: Option<String>) -> Subject {
    Subject {
        order_id: Some(order.id.clone()),
        iccid: Some(order.iccid.to_string()),
        imsi: Some(order.imsi.to_string()),
        msisdn: Some(order.msisdn.to_string()),
        id_hash,
    }
}

/// A lifecycle order's `kind`, `subscription`, `line` and `reason` attributes; none for
/// an activation.
fn lifecycle_attrs(order: &Order) -> Vec<(String, String)> {
    let Some(l) = &order.lifecycle else {
        return Vec::new();
    };
    let mut attrs = vec![
        ("kind".to_owned(), order.kind.as_str().to_owned()),
        ("subscription".to_owned(), l.subscription.clone()),
    ];
    if let Some(a) = order.compliance.as_ref().and_then(|c| c.line.as_ref()) {
        attrs.push(("line".to_owned(), a.clone()));
    }
    if let Some(r) = l.reason {
        attrs.push(("reason".to_owned(), r.as_str().to_owned()));
    }
    attrs
}

/// The record of a lifecycle order's creation (`order.created`): who asked for which
/// operation on which line. `None` for an order without a lifecycle or compliance part.
pub fn lifecycle_created_audit(order: &Order) -> Option<AuditRecord> {
    let c = order.compliance.as_ref()?;
    let l = order.lifecycle.as_ref()?;
    // The gateway's own orders are the deadline timer's (`system_actor`).
    let actor = if l.actor == super::system_actor() {
        super::timer_audit_actor()
    } else {
        Actor {
            key_id: l.actor.key_prefix.clone(),
            channel: l.actor.role.clone(),
            ..Actor::default()
        }
    };
    Some(AuditRecord {
        at_ms: order.created_at_ms,
        actor,
        subject: subject(order, c.id_hash.clone()),
        action: "order.created".to_owned(),
        policy_version: Some(c.policy_version.clone()),
        outcome: Outcome::Record,
        reasons: c.risk.clone(),
        attrs: lifecycle_attrs(order),
        ..AuditRecord::default()
    })
}

/// Every record `order`'s write over `current` produces: its identity verification's
/// decision (`identity.<status>`) and its status change (`order.<status>`), in that
/// order. Empty for an order without a compliance part.
pub fn order_audit(current: &Order, order: &Order) -> Vec<AuditRecord> {
    let Some(c) = order.compliance.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let before = current.identity.as_ref().map(|i| i.status);
    if let Some(r) = identity_audit(before, order, c) {
        out.push(r);
    }
    if current.status != order.status {
        let reasons = match (&order.error, order.status) {
            (Some(e), crate::order::OrderStatus::Failed) => vec![e.code.clone()],
            _ => Vec::new(),
        };
        out.push(AuditRecord {
            at_ms: order.updated_at_ms,
            actor: super::engine_audit_actor(),
            subject: subject(order, c.id_hash.clone()),
            action: format!("order.{}", order.status.as_str()),
            policy_version: Some(c.policy_version.clone()),
            outcome: Outcome::Record,
            reasons,
            attrs: lifecycle_attrs(order),
            ..AuditRecord::default()
        });
    }
    out
}

/// The record of the verifier's decision that a create commit records (asked before the
/// commit: `ComplianceCheck::verified`), after the commit's own `activation.create`;
/// `None` for an order created unverified.
pub fn created_identity_audit(order: &Order) -> Option<AuditRecord> {
    identity_audit(None, order, order.compliance.as_ref()?)
}

/// The record of the verifier's decision, in the commit that records it (`None` while
/// it is pending, or when this write did not decide it: `before` is the status the
/// order had).
fn identity_audit(
    before: Option<IdentityStatus>,
    order: &Order,
    c: &OrderCompliance,
) -> Option<AuditRecord> {
    let now = order.identity.as_ref()?;
    if now.status == IdentityStatus::Pending || before == Some(now.status) {
        return None;
    }
    let outcome = match now.status {
        IdentityStatus::Passed | IdentityStatus::Flagged | IdentityStatus::Skipped => {
            Outcome::Allow
        }
        _ => Outcome::Refuse,
    };
    Some(AuditRecord {
        at_ms: order.updated_at_ms,
        actor: super::engine_audit_actor(),
        subject: subject(order, c.id_hash.clone()),
        action: format!("identity.{}", now.status.as_str()),
        rule: now.reverify.then(|| "verifier_flag".to_owned()),
        policy_version: Some(c.policy_version.clone()),
        outcome,
        reasons: now.code.iter().cloned().collect(),
        evidence: now
            .verification_id
            .iter()
            .map(|v| format!("verification:{v}"))
            .collect(),
        attrs: vec![("attempts".to_owned(), now.attempts.to_string())],
        ..AuditRecord::default()
    })
}

#[cfg(test)]
#[path = "order_audit_tests.rs"]
mod tests;
