use super::*;
use crate::compliance::Market;
use crate::engine::machine::fixture_order;
use crate::order::{
    Actor as OrderActor, IdentityStep, Lifecycle, Line, OrderError, OrderStatus, SuspensionReason,
};
use std::collections::BTreeMap;

fn tenant(market: Option<Market>) -> Tenant {
    let mut t = Tenant::new("t", "T", "00101".parse().expect("plmn"), BTreeMap::new());
    t.market = market;
    t
}

/// The activation that opened the line, checked under enterprise `e` with ID hash `h`.
fn activation() -> Order {
    let mut a = fixture_order();
    a.compliance = Some(OrderCompliance {
        enterprise: "e".into(),
        id_hash: Some("k1:ab".into()),
        policy_version: "cn.v1".into(),
        risk: Vec::new(),
        verify: None,
        reverify_after_ms: 1,
        line: None,
        handset: None,
    });
    a
}

fn lifecycle_order(kind: OrderKind, tenant: &Tenant) -> Order {
    let a = activation();
    let mut o = fixture_order();
    o.id = "ord_1".into();
    o.kind = kind;
    o.created_at_ms = 5;
    o.updated_at_ms = 5;
    o.lifecycle = Some(Lifecycle {
        subscription: "sub_x".into(),
        actor: OrderActor {
            key_prefix: "sk_op".into(),
            role: "operator".into(),
        },
        reason: (kind == OrderKind::Suspend).then_some(SuspensionReason::FraudRisk),
        verification: false,
        line: Line {
            iccid: o.iccid.clone(),
            imsi: o.imsi.clone(),
            msisdn: Some(o.msisdn.clone()),
            hlr_profile_id: 1,
            barred: false,
        },
        reasons_before: Vec::new(),
        new_line: None,
        new_profile: None,
        undownloaded_profile: None,
        number_return: None,
        new_msisdn: None,
        plan: Vec::new(),
        undo: Vec::new(),
    });
    o.compliance = lifecycle_compliance(kind, tenant, Some(&a));
    o
}

#[test]
fn a_lifecycle_order_takes_the_lines_subject_and_the_tenants_policy() {
    let cn = tenant(Some(Market::Cn));
    let o = lifecycle_order(OrderKind::Suspend, &cn);
    let c = o.compliance.as_ref().expect("compliance");
    assert_eq!(
        (
            c.enterprise.as_str(),
            c.id_hash.as_deref(),
            c.line.as_deref()
        ),
        ("e", Some("k1:ab"), Some("act_x"))
    );
    assert_eq!(
        c.policy_version,
        cn.policy().expect("policy").version,
        "the policy in force when the order was created"
    );
    assert!(c.risk.is_empty() && c.verify.is_none());
    // A SIM swap records China's sim_swap hit; without a market, nothing.
    let swap = lifecycle_order(OrderKind::SimSwap, &cn);
    let risk = &swap.compliance.as_ref().expect("compliance").risk;
    assert_eq!(risk.len(), 1);
    assert!(risk[0].starts_with("risk:sim_swap:"), "{risk:?}");
    let plain = lifecycle_order(OrderKind::SimSwap, &tenant(None));
    assert!(plain.compliance.expect("compliance").risk.is_empty());
    // A line whose activation is gone is still audited, under the tenant's enterprise.
    let orphan = lifecycle_compliance(OrderKind::Terminate, &cn, None).expect("compliance");
    assert_eq!((orphan.enterprise.as_str(), orphan.id_hash), ("t", None));
}

#[test]
fn creation_names_who_asked_what_of_which_line() {
    let o = lifecycle_order(OrderKind::Suspend, &tenant(None));
    let r = lifecycle_created_audit(&o).expect("record");
    assert_eq!(r.action, "order.created");
    assert_eq!(
        (r.actor.key_id.as_str(), r.actor.channel.as_str(), r.at_ms),
        ("sk_op", "operator", 5)
    );
    assert_eq!(r.subject.id_hash.as_deref(), Some("k1:ab"));
    assert_eq!(
        r.attrs,
        [
            ("kind".to_owned(), "suspend".to_owned()),
            ("subscription".to_owned(), "sub_x".to_owned()),
            ("line".to_owned(), "act_x".to_owned()),
            ("reason".to_owned(), "fraud_risk".to_owned()),
        ]
    );
    // The timer's own orders are the timer's.
    let mut timer = o.clone();
    if let Some(l) = timer.lifecycle.as_mut() {
        l.actor = crate::store::system_actor();
    }
    let r = lifecycle_created_audit(&timer).expect("record");
    assert_eq!(
        (r.actor.key_id.as_str(), r.actor.channel.as_str()),
        ("system", "timer")
    );
    // Nothing to say about an activation, or an order with no compliance part.
    assert!(lifecycle_created_audit(&activation()).is_none());
    let mut bare = o;
    bare.compliance = None;
    assert!(lifecycle_created_audit(&bare).is_none());
}

#[test]
fn a_status_change_is_audited_once_with_its_failure_code() {
    let before = lifecycle_order(OrderKind::Terminate, &tenant(None));
    assert!(order_audit(&before, &before).is_empty(), "no change");
    let mut failed = before.clone();
    failed.status = OrderStatus::Failed;
    failed.updated_at_ms = 9;
    failed.error = Some(OrderError {
        code: "hlr_rejected".into(),
        detail: "x".into(),
    });
    let rs = order_audit(&before, &failed);
    assert_eq!(rs.len(), 1);
    assert_eq!(
        (rs[0].action.as_str(), rs[0].at_ms, rs[0].reasons.clone()),
        ("order.failed", 9, vec!["hlr_rejected".to_owned()])
    );
    assert_eq!(rs[0].attrs[0], ("kind".to_owned(), "terminate".to_owned()));
    // An activation's change carries no lifecycle attributes.
    let a = activation();
    let mut active = a.clone();
    active.status = OrderStatus::Active;
    let rs = order_audit(&a, &active);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].action, "order.active");
    assert!(rs[0].attrs.is_empty());
}

#[test]
fn the_verifiers_decision_is_audited_in_the_commit_that_records_it() {
    let mut a = activation();
    a.identity = Some(IdentityStep::pending("act_x"));
    let mut sent = a.clone();
    sent.identity.as_mut().expect("identity").attempts = 1;
    assert!(order_audit(&a, &sent).is_empty(), "still pending");
    let mut flagged = sent.clone();
    if let Some(i) = flagged.identity.as_mut() {
        i.status = IdentityStatus::Flagged;
        i.code = Some("document_suspect".into());
        i.verification_id = Some("v-9".into());
        i.reverify = true;
    }
    let rs = order_audit(&sent, &flagged);
    assert_eq!(rs.len(), 1);
    let r = &rs[0];
    assert_eq!(
        (r.action.as_str(), r.outcome, r.rule.as_deref()),
        ("identity.flagged", Outcome::Allow, Some("verifier_flag"))
    );
    assert_eq!(r.reasons, ["document_suspect"]);
    assert_eq!(r.evidence, ["verification:v-9"]);
    // Written again unchanged (a later step): not audited twice.
    assert!(order_audit(&flagged, &flagged).is_empty());
    // A rejection fails the order in the same write: both, decision first.
    let mut rejected = sent.clone();
    rejected.status = OrderStatus::Failed;
    if let Some(i) = rejected.identity.as_mut() {
        i.status = IdentityStatus::Rejected;
        i.code = Some("identity_mismatch".into());
    }
    let actions: Vec<_> = order_audit(&sent, &rejected)
        .into_iter()
        .map(|r| (r.action, r.outcome))
        .collect();
    assert_eq!(
        actions,
        [
            ("identity.rejected".to_owned(), Outcome::Refuse),
            ("order.failed".to_owned(), Outcome::Record)
        ]
    );
}
