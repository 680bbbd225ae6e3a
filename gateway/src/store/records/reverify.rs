//! Second real-person verification (二次实人认证) of a line as both backends apply it:
//! the commands (`NewVerification`), and the pure glue between the machine
//! (`compliance::reverify`) and the rows a commit writes: the state a line opens in, what
//! an event changes (the deadline index, a `regulatory` suspend or resume order), the
//! audit records, the event payloads and the system's order ids. Neither backend repeats
//! any of it; each only reads and writes its rows.
//!
//! The deadline index holds `(due ms, subscription id)`: normally the line's deadline; a
//! line whose deadline passed while another order was in flight on it is looked at again
//! [`BUSY_RETRY_MS`] later. An entry is a hint: the sweep always re-reads the line, so a
//! stale entry (the line verified meanwhile) only costs a read.

use super::{
    LifecycleRejection, NewLifecycle, Planner, RegulatoryHolder, Subscription, SubscriptionState,
};
use crate::clock::rfc3339;
use crate::compliance::audit::{Actor as AuditActor, AuditRecord, Outcome, Subject};
use crate::compliance::policy::DAY_MS;
use crate::compliance::reverify::{self, Effect, Event, Verification, VerificationEvidence};
use crate::compliance::risk::RiskRule;
use crate::compliance::{ChannelKind, Refusal};
use crate::order::{Actor, Order, OrderKind, SuspensionReason};
use serde_json::{Value, json};
use sim_profiles::Msisdn;

/// How long a line whose deadline passed while another order was in flight on it waits
/// before the sweep looks at it again.
pub const BUSY_RETRY_MS: u64 = 60_000;

/// Most lines one sweep commit handles (the timer runs again at once while more are due).
pub const EXPIRE_BATCH: usize = 100;

/// The verifier's result for a line's second verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifierResult {
    /// The subscriber is the holder.
    Passed,
    /// The subscriber is not the holder (or would not verify).
    Failed,
}

impl VerifierResult {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
        }
    }
}

/// Input of `Store::record_verification`: a verification result for the line holding
/// `msisdn`, with its evidence.
#[derive(Clone, Debug)]
pub struct NewVerification {
    /// The tenant of the API key.
    pub tenant: String,
    /// The line, by its number.
    pub msisdn: Msisdn,
    /// The signed risk notice (store) or the recorded video (online).
    pub evidence: VerificationEvidence,
    /// Where the subscriber verified.
    pub channel: ChannelKind,
    /// What the verifier decided.
    pub result: VerifierResult,
    /// The verifier's reference for its decision, if it gave one.
    pub verifier_ref: Option<String>,
    /// Who asks (the resume or suspend order's actor).
    pub actor: Actor,
    /// Who asks, for the audit record (key, channel, store, clerk, device).
    pub audit_actor: AuditActor,
    /// A fresh order id, used if the result needs a `regulatory` resume or suspend order.
    pub order_id: String,
    /// Unix ms now.
    pub now_ms: u64,
    /// The engine's saga planner (for that order).
    pub plan: Planner,
}

/// Result of `Store::record_verification`.
#[derive(Clone, Debug)]
pub enum VerificationOutcome {
    /// Recorded: the line after it and the order it started (a `regulatory` resume after
    /// a late pass, a suspension after a failure), which the caller hands to the engine.
    Recorded {
        /// The line after the change.
        subscription: Box<Subscription>,
        /// The lifecycle order created in the same commit, if any.
        order: Option<Box<Order>>,
    },
    /// No such line, a terminated one, or one with another order in flight when the
    /// result needs an order: nothing changed.
    Rejected(LifecycleRejection),
    /// The machine refused (nothing pending, wrong or empty evidence): nothing changed.
    Refused(Refusal),
}

/// The rules that put a line opened by `activation` into re-verification: each risk rule
/// its create commit recorded (`risk:<rule>:<facts>`), and `verifier_flag` when the
/// identity step's verifier flagged the subscriber under a policy whose rule is on
/// (`Order::identity_reverify`).
pub fn opening_rules(activation: &Order) -> Vec<RiskRule> {
    let mut rules: Vec<RiskRule> = activation
        .compliance
        .iter()
        .flat_map(|c| &c.risk)
        .filter_map(|r| r.strip_prefix("risk:")?.split(':').next())
        .filter_map(RiskRule::parse)
        .collect();
    if activation.identity_reverify() && !rules.contains(&RiskRule::VerifierFlag) {
        rules.push(RiskRule::VerifierFlag);
    }
    rules
}

/// The verification state of the line `activation` opens (in the commit that makes it
/// active, at its `updated_at_ms`): pending with the policy's deadline after a risk hit,
/// clear otherwise.
pub fn opening_state(activation: &Order) -> Verification {
    let after = activation
        .compliance
        .as_ref()
        .map_or(DAY_MS, |c| c.reverify_after_ms);
    let flag = Event::Flag(opening_rules(activation));
    // A flag is never refused.
    reverify::step(&Verification::Clear, flag, after, activation.updated_at_ms)
        .map_or(Verification::Clear, |(s, _)| s)
}

/// What an event does to a line, decided from the line as the commit reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineChange {
    /// The line's verification after it.
    pub next: Verification,
    /// The deadline index entry to remove (the line's previous deadline).
    pub unindex: Option<u64>,
    /// The deadline index entry to add.
    pub index: Option<u64>,
    /// The lifecycle order it needs: `Suspend` or `Resume` with reason `regulatory`
    /// (none when the line already is suspended for that reason, or is not, or when an
    /// operator holds that suspension too and only the verification's hold lifts). While
    /// another order is in flight on the line the reason may be about to change, so the
    /// order is asked for anyway: its creation then answers that the line is busy.
    pub order: Option<OrderKind>,
    /// The line's `regulatory` holders when the change itself alters them, with no
    /// order: an operator holds the suspension too, so the verification's hold is only
    /// added to it (the line is barred already) or lifted from under it (it stays
    /// barred for the operator).
    pub regulatory_by: Option<Vec<RegulatoryHolder>>,
}

/// What `event` does to `sub` at `now_ms` (`deadline_after_ms`: a new flag's deadline),
/// or the machine's refusal. A terminated line has nothing left to verify: any tick
/// clears it.
pub fn line_change(
    sub: &Subscription,
    event: Event,
    deadline_after_ms: u64,
    now_ms: u64,
) -> Result<LineChange, Refusal> {
    let before = sub.verification.deadline_ms();
    if sub.state == SubscriptionState::Terminated && event == Event::Tick {
        return Ok(LineChange {
            next: Verification::Clear,
            unindex: before,
            index: None,
            order: None,
            regulatory_by: None,
        });
    }
    let tick = matches!(event, Event::Tick);
    let (next, effects) = reverify::step(&sub.verification, event, deadline_after_ms, now_ms)?;
    let holders = sub.regulatory_holders();
    let regulatory = !holders.is_empty();
    let operator = holders.contains(&RegulatoryHolder::Operator);
    let busy = sub.inflight.is_some();
    // `Some(true)`: the verification's hold added beside an operator's (the line is
    // suspended for `regulatory` already); `Some(false)`: lifted from under it.
    let mut hold = None;
    let mut order = None;
    for e in &effects {
        match e {
            Effect::Suspend if busy || !regulatory => order = Some(OrderKind::Suspend),
            Effect::Suspend => hold = Some(true),
            Effect::Resume if busy || (regulatory && !operator) => order = Some(OrderKind::Resume),
            Effect::Resume if regulatory => hold = Some(false),
            _ => {}
        }
    }
    // A line the machine holds suspended whose `regulatory` suspension is not in force:
    // the suspend the timer ordered failed, and a tick (the retry entry that
    // `suspend_retry_at` indexed) orders it again.
    if tick && matches!(next, Verification::Suspended { .. }) && !regulatory && order.is_none() {
        order = Some(OrderKind::Suspend);
    }
    let regulatory_by = hold.map(|add| {
        let mut h = holders.clone();
        h.retain(|x| *x != RegulatoryHolder::Verification);
        if add {
            h.push(RegulatoryHolder::Verification);
            h.sort();
        }
        h
    });
    let after = next.deadline_ms();
    Ok(LineChange {
        unindex: before.filter(|d| Some(*d) != after),
        index: after.filter(|d| Some(*d) != before),
        next,
        order,
        regulatory_by,
    })
}

impl LineChange {
    /// Makes the change on `sub` (the caller stores it and keeps the deadline index).
    pub fn apply_to(&self, sub: &mut Subscription) {
        sub.verification = self.next.clone();
        if let Some(h) = &self.regulatory_by {
            sub.regulatory_by = h.clone();
        }
    }
}

/// The lifecycle command of a `regulatory` suspend or resume on `sub`.
pub fn line_order(
    sub: &Subscription,
    kind: OrderKind,
    (order_id, idempotency_key): (String, String),
    actor: Actor,
    now_ms: u64,
    plan: Planner,
) -> NewLifecycle {
    NewLifecycle {
        tenant: sub.tenant.clone(),
        msisdn: sub.msisdn.clone(),
        kind,
        body_hash: format!("{}:{}", kind.as_str(), sub.id),
        idempotency_key,
        order_id,
        actor,
        reason: Some(SuspensionReason::Regulatory),
        sim: None,
        number: None,
        port: None,
        channel: None,
        now_ms,
        random: 0,
        idempotency_cutoff_ms: 0,
        plan,
        send_ahead: None,
        verification: true,
    }
}

/// What a completed lifecycle order's risk hits (a SIM swap under a policy whose
/// `sim_swap` rule is on: `risk:<rule>:<facts>` on its compliance part) do to its line,
/// in the commit that completes it: a flag, pending with the policy's deadline. `None`
/// when the order hit no rule.
pub fn completion_flag(sub: &Subscription, order: &Order) -> Option<LineChange> {
    let rules = opening_rules(order);
    if rules.is_empty() {
        return None;
    }
    let after = order
        .compliance
        .as_ref()
        .map_or(DAY_MS, |c| c.reverify_after_ms);
    // A flag is never refused.
    line_change(sub, Event::Flag(rules), after, order.updated_at_ms).ok()
}

/// What a verification result does to the line the commit read for it (`None`: no line
/// with that number): the line, its change and the `regulatory` order to create, or the
/// outcome that ends the command with nothing written (another tenant's line answers as
/// none; a terminated line has nothing to verify).
pub fn verification_change(
    line: Option<Subscription>,
    v: &NewVerification,
) -> Result<(Subscription, LineChange, Option<NewLifecycle>), VerificationOutcome> {
    let reject = VerificationOutcome::Rejected;
    let before = match line {
        Some(l) if l.tenant == v.tenant => l,
        _ => return Err(reject(LifecycleRejection::NotFound)),
    };
    if before.state == SubscriptionState::Terminated {
        return Err(reject(LifecycleRejection::Terminated));
    }
    let event = match v.result {
        VerifierResult::Passed => Event::Passed(v.evidence.clone(), v.channel),
        VerifierResult::Failed => Event::Failed,
    };
    let change = line_change(&before, event, 0, v.now_ms).map_err(VerificationOutcome::Refused)?;
    let order = change.order.map(|kind| {
        line_order(
            &before,
            kind,
            (v.order_id.clone(), format!("verification:{}", v.order_id)),
            v.actor.clone(),
            v.now_ms,
            v.plan,
        )
    });
    Ok((before, change, order))
}

/// The suspend order of a line whose deadline `deadline_ms` passed: its id and
/// idempotency key derive from the line and the deadline, so a sweep repeated after a
/// crash finds the order it created instead of creating another.
pub fn expiry_order(
    sub: &Subscription,
    deadline_ms: u64,
    now_ms: u64,
    plan: Planner,
) -> NewLifecycle {
    let seed = format!("reverify-expired|{}|{deadline_ms}", sub.id);
    let digest = crate::crypto::sha256(seed.as_bytes());
    let id = format!("ord_{}", crate::crypto::base32(&digest[..16]));
    let key = format!("reverify-expired:{}:{deadline_ms}", sub.id);
    line_order(
        sub,
        OrderKind::Suspend,
        (id, key),
        system_actor(),
        now_ms,
        plan,
    )
}

/// When the sweep looks at `sub` again after `order` ended (written in the commit that
/// ends it): a `regulatory` suspend the line's second verification ordered (its deadline
/// passed, or a result failed the subscriber) that failed, on a line that must still be
/// suspended, is ordered again [`BUSY_RETRY_MS`] later (`None`: nothing to retry). The
/// line's machine state stays `suspended`, so the sweep's tick finds the reason missing
/// (`line_change`).
pub fn suspend_retry_at(sub: &Subscription, order: &Order) -> Option<u64> {
    let l = order.lifecycle.as_ref()?;
    // An order stored before `verification` was recorded: the timer's had actor `system`.
    let ours = order.kind == OrderKind::Suspend
        && l.reason == Some(SuspensionReason::Regulatory)
        && (l.verification || l.actor == system_actor());
    let still = matches!(sub.verification, Verification::Suspended { .. })
        && !sub
            .suspension_reasons
            .contains(&SuspensionReason::Regulatory)
        && sub.state != SubscriptionState::Terminated;
    (ours && still && order.status == crate::order::OrderStatus::Failed)
        .then(|| order.updated_at_ms.saturating_add(BUSY_RETRY_MS))
}

/// The order actor of what the gateway does by itself (not an API key).
pub fn system_actor() -> Actor {
    Actor {
        key_prefix: "system".into(),
        role: "system".into(),
    }
}

/// The audit actor of a fact the engine's own commit records.
pub fn engine_audit_actor() -> AuditActor {
    AuditActor {
        key_id: "system".into(),
        channel: "engine".into(),
        ..AuditActor::default()
    }
}

/// The audit actor of the deadline timer.
pub fn timer_audit_actor() -> AuditActor {
    AuditActor {
        key_id: "system".into(),
        channel: "timer".into(),
        ..AuditActor::default()
    }
}

/// `state` as the API shows a line: `pending_verification` while an otherwise active
/// line waits for its verification.
pub fn api_state(sub: &Subscription) -> &'static str {
    match (sub.state, sub.verification.api_state()) {
        (SubscriptionState::Active, Some(s)) => s,
        (s, _) => s.as_str(),
    }
}

/// A line's verification as the API and events show it: `state` (`clear`, `pending`,
/// `suspended`), `rules`, and `since`/`deadline` while pending or `cause` once suspended.
pub fn verification_json(v: &Verification) -> Value {
    let names = |rules: &[RiskRule]| rules.iter().map(|r| r.as_str()).collect::<Vec<_>>();
    match v {
        Verification::Clear => json!({"state": "clear", "rules": []}),
        Verification::Pending {
            rules,
            since_ms,
            deadline_ms,
        } => json!({"state": "pending", "rules": names(rules),
                    "since": rfc3339(*since_ms), "deadline": rfc3339(*deadline_ms)}),
        Verification::Suspended { rules, cause } => {
            json!({"state": "suspended", "rules": names(rules), "cause": cause})
        }
    }
}

/// The data of `subscription.verification_required` and `subscription.verified`: the
/// line (no secret) with its verification, and the order that caused or followed it.
pub fn verification_event_data(sub: &Subscription, order_id: Option<&str>) -> Value {
    json!({
        "id": sub.id,
        "object": "subscription",
        "msisdn": sub.msisdn,
        "iccid": sub.iccid,
        "imsi": sub.imsi,
        "state": api_state(sub),
        "suspension_reasons": sub.suspension_reasons,
        "verification": verification_json(&sub.verification),
        "order_id": order_id,
    })
}

fn rule_names(v: &Verification) -> Vec<String> {
    match v {
        Verification::Clear => Vec::new(),
        Verification::Pending { rules, .. } | Verification::Suspended { rules, .. } => rules
            .iter()
            .map(|r| format!("risk:{}", r.as_str()))
            .collect(),
    }
}

/// An audit record about line `sub` (opened by `activation`, when it is still stored).
pub(super) fn line_record(
    sub: &Subscription,
    activation: Option<&Order>,
    action: &str,
    actor: AuditActor,
    at_ms: u64,
) -> AuditRecord {
    let c = activation.and_then(|a| a.compliance.as_ref());
    AuditRecord {
        at_ms,
        actor,
        subject: Subject {
            order_id: None,
            iccid: Some(sub.iccid.to_string()),
            imsi: Some(sub.imsi.to_string()),
            msisdn: Some(sub.msisdn.to_string()),
            id_hash: c.and_then(|c| c.id_hash.clone()),
        },
        action: action.to_owned(),
        policy_version: c.map(|c| c.policy_version.clone()),
        attrs: vec![
            ("subscription".to_owned(), sub.id.clone()),
            ("activation".to_owned(), sub.activation_id.clone()),
        ],
        ..AuditRecord::default()
    }
}

/// The audit record of a line entering `pending_verification` (`None` when it is not
/// pending), recorded by the engine's commit that opened it (`activation`) or completed
/// the order that flagged it (a SIM swap).
pub fn required_audit(sub: &Subscription, activation: &Order) -> Option<AuditRecord> {
    let deadline = sub.verification.deadline_ms()?;
    let actor = engine_audit_actor();
    let mut r = line_record(
        sub,
        Some(activation),
        "verification.required",
        actor,
        activation.updated_at_ms,
    );
    r.subject.order_id = Some(activation.id.clone());
    r.reasons = rule_names(&sub.verification);
    r.attrs
        .push(("deadline_ms".to_owned(), deadline.to_string()));
    Some(r)
}

/// The audit record of a verification result on `before` (the line as it was), with the
/// order it started.
pub fn result_audit(
    before: &Subscription,
    v: &NewVerification,
    activation: Option<&Order>,
    order: Option<&Order>,
) -> AuditRecord {
    let mut r = line_record(
        before,
        activation,
        &format!("verification.{}", v.result.as_str()),
        v.audit_actor.clone(),
        v.now_ms,
    );
    r.subject.order_id = order.map(|o| o.id.clone());
    r.outcome = match v.result {
        VerifierResult::Passed => Outcome::Allow,
        VerifierResult::Failed => Outcome::Refuse,
    };
    r.reasons = rule_names(&before.verification);
    r.evidence.push(match &v.evidence {
        VerificationEvidence::RiskNotice(id) => format!("risk_notice:{id}"),
        VerificationEvidence::Video(id) => format!("video:{id}"),
    });
    if let Some(t) = &v.verifier_ref {
        r.evidence.push(format!("verifier:{t}"));
    }
    r.attrs.push((
        "previous".to_owned(),
        state_name(&before.verification).to_owned(),
    ));
    r
}

/// The audit record of the deadline of `before` passing: the line is suspended by
/// `order` (none when it already was, for `regulatory`).
pub fn expired_audit(
    before: &Subscription,
    activation: Option<&Order>,
    order: Option<&str>,
    now_ms: u64,
) -> AuditRecord {
    let mut r = line_record(
        before,
        activation,
        "verification.expired",
        timer_audit_actor(),
        now_ms,
    );
    r.subject.order_id = order.map(str::to_owned);
    r.outcome = Outcome::Refuse;
    r.reasons = rule_names(&before.verification);
    if let Some(d) = before.verification.deadline_ms() {
        r.attrs.push(("deadline_ms".to_owned(), d.to_string()));
    }
    r
}

fn state_name(v: &Verification) -> &'static str {
    match v {
        Verification::Clear => "clear",
        Verification::Pending { .. } => "pending",
        Verification::Suspended { .. } => "suspended",
    }
}

/// Whether there is nothing to verify (the stored field is omitted then).
pub fn verification_is_clear(v: &Verification) -> bool {
    *v == Verification::Clear
}

#[cfg(test)]
#[path = "reverify_tests.rs"]
mod tests;
