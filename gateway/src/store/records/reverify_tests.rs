use super::*;
use crate::compliance::reverify::SuspendCause;
use crate::order::{Actor, Order};
use crate::store::{HistoryEntry, SimType};
use serde_json::json;

const HOUR: u64 = 3_600_000;

/// An activation that became active at `at`, with the create commit's `risk` hits (and
/// no compliance part at all when `None`). Built from JSON, so fields added to `Order`
/// later with a default keep this compiling.
fn activation(risk: Option<Vec<&str>>, at: u64) -> Order {
    let compliance = risk.map(|r| {
        json!({"enterprise": "e", "id_hash": "k1:00ff", "policy_version": "cn.v1",
               "risk": r, "reverify_after_ms": 48 * HOUR})
    });
    serde_json::from_value(json!({
        "id": "act_aaaaaaaaaaaaaaaaaaaaaaaaaa", "kind": "activation", "tenant": "t",
        "status": "active", "iccid": "8986000000000000010", "imsi": "001010000000001",
        "msisdn": "8613800000001", "msisdn_mode": "auto", "product": "p",
        "hlr_profile_id": 1, "channel": null, "subscriber": null, "compliance": compliance,
        "hlr": {"state": "pending"}, "undo": null, "error": null, "needs_attention": false,
        "created_at_ms": 0, "updated_at_ms": at, "version": 3
    }))
    .expect("order")
}

fn line(v: Verification, reasons: Vec<SuspensionReason>) -> Subscription {
    let a = activation(None, 0);
    Subscription {
        id: "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        tenant: "t".into(),
        msisdn: a.msisdn,
        iccid: a.iccid,
        imsi: a.imsi,
        sim_type: SimType::Physical,
        product: "p".into(),
        hlr_profile_id: 1,
        state: if reasons.is_empty() {
            SubscriptionState::Active
        } else {
            SubscriptionState::Suspended
        },
        suspension_reasons: reasons,
        regulatory_by: Vec::new(),
        activation_id: a.id,
        inflight: None,
        history: Vec::new(),
        verification: v,
        port_out_credential: None,
        last_port_at_ms: None,
        handset: None,
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

/// A line suspended for `regulatory` alone, held by `holders`.
fn regulatory(v: Verification, holders: &[RegulatoryHolder]) -> Subscription {
    let mut sub = line(v, vec![SuspensionReason::Regulatory]);
    sub.regulatory_by = holders.to_vec();
    sub
}

fn pending(deadline_ms: u64) -> Verification {
    Verification::Pending {
        rules: vec![RiskRule::IdNearLimit],
        since_ms: 0,
        deadline_ms,
    }
}

fn expired() -> Verification {
    Verification::Suspended {
        rules: vec![RiskRule::IdNearLimit],
        cause: SuspendCause::Expired,
    }
}

#[test]
fn a_line_opens_pending_after_a_risk_hit_with_the_policy_deadline() {
    let a = activation(
        Some(vec![
            "risk:id_near_limit:lines 5 of 5",
            "risk:outside_store_hours:local 23:10",
        ]),
        1_000,
    );
    assert_eq!(
        opening_rules(&a),
        [RiskRule::IdNearLimit, RiskRule::OutsideStoreHours]
    );
    assert_eq!(
        opening_state(&a),
        Verification::Pending {
            rules: vec![RiskRule::IdNearLimit, RiskRule::OutsideStoreHours],
            since_ms: 1_000,
            deadline_ms: 1_000 + 48 * HOUR,
        }
    );
    assert_eq!(
        opening_state(&activation(Some(vec![]), 1_000)),
        Verification::Clear
    );
    assert_eq!(opening_state(&activation(None, 1_000)), Verification::Clear);
    // The identity step's flag, under a policy whose `verifier_flag` rule is on.
    let mut flagged = activation(Some(vec![]), 1_000);
    let mut step = crate::order::IdentityStep::pending(&flagged.id);
    step.status = crate::order::IdentityStatus::Flagged;
    step.reverify = true;
    flagged.identity = Some(step.clone());
    assert_eq!(opening_rules(&flagged), [RiskRule::VerifierFlag]);
    assert_eq!(
        opening_state(&flagged).deadline_ms(),
        Some(1_000 + 48 * HOUR)
    );
    step.reverify = false;
    flagged.identity = Some(step);
    assert!(
        opening_rules(&flagged).is_empty(),
        "a flag the policy ignores"
    );
    // Unknown rule names (a newer writer) are skipped, never a failure.
    assert!(opening_rules(&activation(Some(vec!["risk:new_rule:x", "junk"]), 0)).is_empty());
}

#[test]
fn an_order_stored_before_the_deadline_length_reads_24_hours() {
    let mut v = serde_json::to_value(activation(Some(vec!["risk:sim_swap:x"]), 0)).expect("json");
    v["compliance"]
        .as_object_mut()
        .expect("compliance")
        .remove("reverify_after_ms");
    let old: Order = serde_json::from_value(v).expect("old order");
    assert_eq!(opening_state(&old).deadline_ms(), Some(24 * HOUR));
}

#[test]
fn a_pass_in_time_clears_and_drops_the_deadline() {
    let sub = line(pending(HOUR), vec![]);
    assert_eq!(api_state(&sub), "pending_verification");
    let pass = Event::Passed(
        VerificationEvidence::Video("v-1".into()),
        ChannelKind::Online,
    );
    let c = line_change(&sub, pass, 0, HOUR - 1).expect("pass");
    assert_eq!(
        c,
        LineChange {
            next: Verification::Clear,
            unindex: Some(HOUR),
            index: None,
            order: None,
            regulatory_by: None,
        }
    );
}

#[test]
fn the_deadline_suspends_unless_the_line_has_the_reason_already() {
    let sub = line(pending(HOUR), vec![]);
    let early = line_change(&sub, Event::Tick, 0, HOUR - 1).expect("early");
    assert_eq!((early.next, early.order), (pending(HOUR), None));
    assert_eq!((early.unindex, early.index), (None, None));
    let c = line_change(&sub, Event::Tick, 0, HOUR).expect("due");
    assert_eq!(
        c,
        LineChange {
            next: expired(),
            unindex: Some(HOUR),
            index: None,
            order: Some(OrderKind::Suspend),
            regulatory_by: None,
        }
    );
    let held = line(pending(HOUR), vec![SuspensionReason::Regulatory]);
    let c = line_change(&held, Event::Tick, 0, HOUR).expect("due");
    assert_eq!((c.next, c.order), (expired(), None));
    // Another reason does not stand in for `regulatory`.
    let other = line(pending(HOUR), vec![SuspensionReason::NonPayment]);
    assert_eq!(
        line_change(&other, Event::Tick, 0, HOUR)
            .expect("due")
            .order,
        Some(OrderKind::Suspend)
    );
}

#[test]
fn a_late_pass_resumes_and_a_failure_suspends() {
    let pass = || {
        Event::Passed(
            VerificationEvidence::RiskNotice("rn".into()),
            ChannelKind::Store,
        )
    };
    let suspended = regulatory(expired(), &[RegulatoryHolder::Verification]);
    let c = line_change(&suspended, pass(), 0, 2 * HOUR).expect("late pass");
    assert_eq!(
        (c.next, c.order, c.unindex),
        (Verification::Clear, Some(OrderKind::Resume), None)
    );
    // Lifted meanwhile by an operator: nothing to resume.
    let lifted = line(expired(), vec![]);
    assert_eq!(
        line_change(&lifted, pass(), 0, 2 * HOUR)
            .expect("pass")
            .order,
        None
    );
    // The suspension still in flight: the resume is asked for (and refused as busy).
    let mut suspending = line(expired(), vec![]);
    suspending.inflight = Some("ord_suspend".into());
    assert_eq!(
        line_change(&suspending, pass(), 0, 2 * HOUR)
            .expect("pass")
            .order,
        Some(OrderKind::Resume)
    );
    let failed = line_change(&line(pending(HOUR), vec![]), Event::Failed, 0, 10).expect("fail");
    assert_eq!(failed.order, Some(OrderKind::Suspend));
    assert_eq!(failed.unindex, Some(HOUR));
    assert!(matches!(
        failed.next,
        Verification::Suspended {
            cause: SuspendCause::Failed,
            ..
        }
    ));
}

#[test]
fn an_operators_regulatory_hold_outlasts_the_verification() {
    use RegulatoryHolder::{Operator, Verification as Ours};
    let pass = || Event::Passed(VerificationEvidence::Video("v".into()), ChannelKind::Online);
    // The operator suspended the line for `regulatory` while it was pending: the
    // deadline adds the verification's hold (the line is barred already), no order.
    let c = line_change(
        &regulatory(pending(HOUR), &[Operator]),
        Event::Tick,
        0,
        HOUR,
    )
    .expect("due");
    assert_eq!(
        (c.next.clone(), c.order, c.regulatory_by.clone()),
        (expired(), None, Some(vec![Ours, Operator]))
    );
    let mut sub = regulatory(pending(HOUR), &[Operator]);
    c.apply_to(&mut sub);
    assert_eq!(
        (sub.verification.clone(), sub.regulatory_holders()),
        (expired(), vec![Ours, Operator])
    );
    // A late pass lifts only the verification's hold: the line stays suspended.
    let c = line_change(&sub, pass(), 0, 2 * HOUR).expect("pass");
    assert_eq!(
        (c.next.clone(), c.order, c.regulatory_by.clone()),
        (Verification::Clear, None, Some(vec![Operator]))
    );
    c.apply_to(&mut sub);
    assert_eq!(sub.suspension_reasons, [SuspensionReason::Regulatory]);
    // A failure on a line the operator holds: the verification's hold, no order.
    let failed = line_change(
        &regulatory(pending(HOUR), &[Operator]),
        Event::Failed,
        0,
        10,
    )
    .expect("fail");
    assert_eq!(
        (failed.order, failed.regulatory_by),
        (None, Some(vec![Ours, Operator]))
    );
    // The operator's hold alone and a pass: nothing of the verification's to lift.
    let c = line_change(&regulatory(expired(), &[Operator]), pass(), 0, 2 * HOUR).expect("pass");
    assert_eq!((c.order, c.regulatory_by), (None, Some(vec![Operator])));
    // Busy: the order is asked for anyway (and refused as busy), whoever holds it.
    let mut busy = regulatory(expired(), &[Ours, Operator]);
    busy.inflight = Some("ord_other".into());
    let c = line_change(&busy, pass(), 0, 2 * HOUR).expect("pass");
    assert_eq!((c.order, c.regulatory_by), (Some(OrderKind::Resume), None));
}

#[test]
fn holders_of_a_line_stored_before_they_were_recorded_come_from_its_history() {
    use RegulatoryHolder::{Operator, Verification as Ours};
    let entry = |kind, role: &str, outcome: &str| HistoryEntry {
        order_id: "ord_x".into(),
        kind,
        outcome: outcome.into(),
        actor: Some(Actor {
            key_prefix: role.into(),
            role: role.into(),
        }),
        reason: Some(SuspensionReason::Regulatory),
        change: None,
        error: None,
        at_ms: 1,
    };
    let mut sub = line(expired(), vec![SuspensionReason::Regulatory]);
    sub.history = vec![
        entry(OrderKind::Suspend, "operator", "completed"),
        entry(OrderKind::Resume, "operator", "completed"),
        entry(OrderKind::Suspend, "operator", "failed"),
        entry(OrderKind::Suspend, "system", "completed"),
    ];
    assert_eq!(sub.regulatory_holders(), [Ours]);
    let pass = Event::Passed(VerificationEvidence::Video("v".into()), ChannelKind::Online);
    let c = line_change(&sub, pass.clone(), 0, 5).expect("pass");
    assert_eq!(c.order, Some(OrderKind::Resume), "the verification's alone");
    // Nothing in the history says who: the operator's (a pass leaves it).
    sub.history.clear();
    assert_eq!(sub.regulatory_holders(), [Operator]);
    assert_eq!(line_change(&sub, pass, 0, 5).expect("pass").order, None);
    // Not suspended for it: nobody holds it, whatever is stored.
    let mut free = line(Verification::Clear, vec![]);
    free.regulatory_by = vec![Ours];
    assert!(free.regulatory_holders().is_empty());
}

/// A completed suspend's lifecycle part: for `reason`, ordered by the verification or
/// by an operator key.
fn suspend(reason: SuspensionReason, verification: bool) -> crate::order::Lifecycle {
    serde_json::from_value(json!({
        "subscription": "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "actor": {"key_prefix": "sk_op", "role": "operator"},
        "reason": reason, "verification": verification,
        "line": {"iccid": "8986000000000000010", "imsi": "001010000000001",
                 "hlr_profile_id": 1, "barred": false},
        "plan": []
    }))
    .expect("lifecycle")
}

#[test]
fn suspends_and_resumes_keep_the_holders() {
    use RegulatoryHolder::{Operator, Verification as Ours};
    let regulatory = SuspensionReason::Regulatory;
    let mut sub = line(Verification::Clear, vec![]);
    assert!(!sub.suspension_held(regulatory, true));
    // The failed verification's suspend, asked by an operator key: the verification's.
    sub.suspended_for(&suspend(regulatory, true));
    assert_eq!(
        (sub.state, sub.regulatory_holders()),
        (SubscriptionState::Suspended, vec![Ours])
    );
    // The verification's hold does not stand in for the operator's, nor the reverse.
    assert!(sub.suspension_held(regulatory, true));
    assert!(!sub.suspension_held(regulatory, false));
    sub.suspended_for(&suspend(regulatory, false));
    assert_eq!(sub.suspension_reasons, [regulatory]);
    assert_eq!(sub.regulatory_holders(), [Ours, Operator]);
    sub.suspended_for(&suspend(SuspensionReason::NonPayment, false));
    assert!(sub.suspension_held(SuspensionReason::NonPayment, true));
    // An operator's resume lifts `regulatory` with every hold.
    sub.resumed_from(Some(SuspensionReason::Regulatory));
    assert_eq!(
        (
            sub.state,
            sub.suspension_reasons.clone(),
            sub.regulatory_by.clone()
        ),
        (
            SubscriptionState::Suspended,
            vec![SuspensionReason::NonPayment],
            vec![]
        )
    );
    sub.resumed_from(Some(SuspensionReason::NonPayment));
    assert_eq!(sub.state, SubscriptionState::Active);
}

#[test]
fn refusals_and_terminated_lines() {
    let clear = line(Verification::Clear, vec![]);
    let e = line_change(
        &clear,
        Event::Passed(VerificationEvidence::Video("v".into()), ChannelKind::Online),
        0,
        0,
    )
    .expect_err("nothing pending");
    assert_eq!(e.code, "verification_not_pending");
    let wrong = line_change(
        &line(pending(HOUR), vec![]),
        Event::Passed(VerificationEvidence::Video("v".into()), ChannelKind::Store),
        0,
        0,
    )
    .expect_err("store needs the notice");
    assert_eq!(e.status, 409);
    assert_eq!(wrong.code, "verification_evidence_required");
    let mut gone = line(pending(HOUR), vec![]);
    gone.state = SubscriptionState::Terminated;
    let c = line_change(&gone, Event::Tick, 0, 0).expect("tick");
    assert_eq!(
        (c.next, c.unindex, c.order),
        (Verification::Clear, Some(HOUR), None)
    );
}

#[test]
fn the_expiry_order_is_the_same_for_a_line_and_deadline() {
    fn plan(_: OrderKind, _: &crate::order::Lifecycle) -> Vec<crate::order::SagaStep> {
        Vec::new()
    }
    let sub = line(pending(HOUR), vec![]);
    let a = expiry_order(&sub, HOUR, 5, plan);
    let b = expiry_order(&sub, HOUR, 9, plan);
    assert_eq!(
        (&a.order_id, &a.idempotency_key),
        (&b.order_id, &b.idempotency_key)
    );
    assert_ne!(a.order_id, expiry_order(&sub, HOUR + 1, 5, plan).order_id);
    let id = a.order_id.strip_prefix("ord_").expect("prefix");
    assert!(
        id.len() == 26 && id.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7')),
        "{id}"
    );
    assert_eq!(
        (a.kind, a.reason, a.actor),
        (
            OrderKind::Suspend,
            Some(SuspensionReason::Regulatory),
            Actor {
                key_prefix: "system".into(),
                role: "system".into()
            }
        )
    );
}

#[test]
fn the_verification_as_shown() {
    assert_eq!(
        verification_json(&pending(HOUR)),
        json!({"state": "pending", "rules": ["id_near_limit"],
               "since": "1970-01-01T00:00:00.000Z", "deadline": "1970-01-01T01:00:00.000Z"})
    );
    assert_eq!(
        verification_json(&expired()),
        json!({"state": "suspended", "rules": ["id_near_limit"], "cause": "expired"})
    );
    assert_eq!(
        verification_json(&Verification::Clear),
        json!({"state": "clear", "rules": []})
    );
    let suspended = line(expired(), vec![SuspensionReason::Regulatory]);
    assert_eq!(api_state(&suspended), "suspended");
    let data = verification_event_data(&suspended, Some("ord_x"));
    assert_eq!(
        (
            &data["state"],
            &data["order_id"],
            &data["verification"]["cause"]
        ),
        (&json!("suspended"), &json!("ord_x"), &json!("expired"))
    );
}

#[test]
fn audit_records_name_the_line_the_rules_and_the_evidence() {
    let a = activation(Some(vec!["risk:id_near_limit:lines 5 of 5"]), 7);
    let mut sub = line(opening_state(&a), vec![]);
    sub.activation_id = a.id.clone();
    let r = required_audit(&sub, &a).expect("pending");
    assert_eq!(
        (r.action.as_str(), r.reasons.as_slice()),
        (
            "verification.required",
            &["risk:id_near_limit".to_owned()][..]
        )
    );
    assert_eq!(
        (r.subject.id_hash.as_deref(), r.policy_version.as_deref()),
        (Some("k1:00ff"), Some("cn.v1"))
    );
    assert!(required_audit(&line(Verification::Clear, vec![]), &a).is_none());
    fn plan(_: OrderKind, _: &crate::order::Lifecycle) -> Vec<crate::order::SagaStep> {
        Vec::new()
    }
    let v = NewVerification {
        tenant: "t".into(),
        msisdn: sub.msisdn.clone(),
        evidence: VerificationEvidence::RiskNotice("rn-7".into()),
        channel: ChannelKind::Store,
        result: VerifierResult::Failed,
        verifier_ref: Some("tx-1".into()),
        actor: system_actor(),
        audit_actor: timer_audit_actor(),
        order_id: "ord_b".into(),
        now_ms: 9,
        plan,
    };
    let r = result_audit(&sub, &v, Some(&a), None);
    assert_eq!(r.action, "verification.failed");
    assert_eq!(r.outcome, Outcome::Refuse);
    assert_eq!(r.evidence, ["risk_notice:rn-7", "verifier:tx-1"]);
    let r = expired_audit(&sub, Some(&a), Some("ord_c"), 11);
    assert_eq!(
        (r.action.as_str(), r.subject.order_id.as_deref(), r.at_ms),
        ("verification.expired", Some("ord_c"), 11)
    );
    assert!(
        r.attrs
            .contains(&("deadline_ms".to_owned(), (7 + 48 * HOUR).to_string()))
    );
}
