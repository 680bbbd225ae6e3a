use super::*;
use crate::compliance::reverify::{SuspendCause, Verification};
use crate::store::{SimType, SubscriptionState};
use serde_json::json;

const HOUR: u64 = 3_600_000;

/// A cn tenant (whose `blocked_imei` rule is on) with `imei_change` on or off.
fn tenant(imei_change: bool) -> Tenant {
    let plmn = "46011".parse().expect("plmn");
    let mut t = Tenant::new("t", "T", plmn, std::collections::BTreeMap::new());
    t.market = Some(crate::compliance::Market::Cn);
    let mut o = crate::compliance::PolicyOverride::default();
    o.risk.imei_change = Some(imei_change);
    t.compliance = Some(Box::new(o));
    t
}

fn line(handset: Option<(&str, bool)>) -> Subscription {
    serde_json::from_value(json!({
        "id": "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", "tenant": "t", "msisdn": "8613800000001",
        "iccid": "8986000000000000010", "imsi": "001010000000001", "sim_type": SimType::Physical,
        "product": "p", "hlr_profile_id": 1, "state": "active",
        "activation_id": "act_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "handset": handset.map(|(mac, blocked)| json!({"mac": mac, "tac": "35000000",
                                                       "blocked": blocked, "seen_at_ms": 1})),
        "created_at_ms": 0, "updated_at_ms": 0
    }))
    .expect("line")
}

fn report(mac: &str) -> NewHandset {
    NewHandset {
        tenant: "t".into(),
        msisdn: "8613800000001".parse().expect("msisdn"),
        mac: mac.into(),
        tac: "49015420".into(),
        blocklist: vec!["49015420323751".into()],
        audit_actor: AuditActor::default(),
        now_ms: 10 * HOUR,
    }
}

#[test]
fn a_repeat_writes_nothing_and_the_first_report_is_the_baseline() {
    let t = tenant(true);
    let same = handset_change(&line(Some(("m1", false))), Some(&t), &report("m1"), false);
    assert!(same.seen.is_none() && same.hits.is_empty() && same.line.is_none());
    assert!(same.audit(&line(None), None, &report("m1")).is_none());
    let HandsetOutcome::Recorded { written, .. } = same.outcome(line(None)) else {
        panic!("recorded")
    };
    assert!(!written);
    let first = handset_change(&line(None), Some(&t), &report("m1"), false);
    assert!(first.hits.is_empty(), "the baseline is no change");
    let mut sub = line(None);
    first.apply_to(&mut sub, &report("m1"));
    let h = sub.handset.clone().expect("kept");
    assert_eq!(
        (h.mac.as_str(), h.tac.as_str(), h.blocked),
        ("m1", "49015420", false)
    );
    assert_eq!(sub.verification, Verification::Clear);
    let r = first
        .audit(&line(None), None, &report("m1"))
        .expect("audited");
    assert_eq!(r.action, "handset.seen");
    assert!(r.evidence.contains(&"tac:49015420".to_owned()));
}

#[test]
fn another_handset_flags_the_line_where_the_rule_is_on() {
    let before = line(Some(("m1", false)));
    let c = handset_change(&before, Some(&tenant(true)), &report("m2"), false);
    assert_eq!(
        c.hits.iter().map(|h| h.rule).collect::<Vec<_>>(),
        [RiskRule::ImeiChange]
    );
    assert!(c.flags());
    let mut sub = before.clone();
    c.apply_to(&mut sub, &report("m2"));
    assert_eq!(
        sub.verification.deadline_ms(),
        Some(10 * HOUR + 24 * HOUR),
        "the policy's deadline"
    );
    assert_eq!(crate::store::api_state(&sub), "pending_verification");
    let r = c.audit(&before, None, &report("m2")).expect("audited");
    assert_eq!(r.action, "verification.required");
    assert_eq!(r.reasons, ["risk:imei_change:new handset"]);
    assert!(
        r.attrs
            .contains(&("previous_tac".to_owned(), "35000000".to_owned()))
    );
    // The rule off (the cn default): recorded, nothing flagged.
    let off = handset_change(&before, Some(&tenant(false)), &report("m2"), false);
    assert!(off.seen.is_some_and(|s| s.changed) && off.hits.is_empty() && !off.flags());
}

#[test]
fn a_blocklisted_handset_flags_once_and_a_suspended_line_stays_so() {
    let t = tenant(false);
    let c = handset_change(&line(Some(("m1", false))), Some(&t), &report("m1"), true);
    assert_eq!(
        c.hits.iter().map(|h| h.rule).collect::<Vec<_>>(),
        [RiskRule::BlockedImei]
    );
    assert!(c.flags());
    // Reported again, still blocklisted: nothing more.
    assert!(
        handset_change(&line(Some(("m1", true))), Some(&t), &report("m1"), true)
            .seen
            .is_none()
    );
    // No longer blocklisted: recorded, no hit.
    let lifted = handset_change(&line(Some(("m1", true))), Some(&t), &report("m1"), false);
    assert!(lifted.seen.is_some() && lifted.hits.is_empty());
    // A line the deadline suspended takes the rule, with no new deadline.
    let mut suspended = line(Some(("m1", false)));
    suspended.verification = Verification::Suspended {
        rules: vec![RiskRule::IdNearLimit],
        cause: SuspendCause::Expired,
    };
    suspended.state = SubscriptionState::Suspended;
    let c = handset_change(&suspended, Some(&t), &report("m1"), true);
    assert!(!c.flags(), "{:?}", c.line);
    // No tenant policy: no rules.
    let none = handset_change(&line(Some(("m1", false))), None, &report("m2"), true);
    assert!(none.seen.is_some() && none.hits.is_empty());
}

#[test]
fn terminated_and_foreign_lines_are_refused() {
    let h = report("m1");
    assert!(matches!(
        handset_line(None, &h),
        Err(HandsetOutcome::Rejected(LifecycleRejection::NotFound))
    ));
    let mut other = line(None);
    other.tenant = "u".into();
    assert!(matches!(
        handset_line(Some(other), &h),
        Err(HandsetOutcome::Rejected(LifecycleRejection::NotFound))
    ));
    let mut gone = line(None);
    gone.state = SubscriptionState::Terminated;
    assert!(matches!(
        handset_line(Some(gone), &h),
        Err(HandsetOutcome::Rejected(LifecycleRejection::Terminated))
    ));
}
