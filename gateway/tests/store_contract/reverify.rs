//! Second real-person verification in the store: a flagged activation's line opens
//! pending with its deadline indexed (audited, published); the sweep suspends it once at
//! its deadline with a system order, waits for a busy line, and survives a reopen; a
//! result clears, suspends or resumes, and a refusal or a busy line changes nothing.

use crate::Backend;
use crate::fixture::*;
use gateway::compliance::ChannelRef;
use gateway::compliance::reverify::{SuspendCause, Verification, VerificationEvidence};
use gateway::compliance::risk::RiskRule;
use gateway::compliance::{ChannelKind, Policy};
use gateway::order::{Actor, Effect, Order, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::{
    EventType, LifecycleRejection, NewVerification, StoreAdmin, Subscription, SubscriptionState,
    VerificationOutcome, VerifierResult,
};
use sim_profiles::Msisdn;

const HOUR_MS: u64 = 3_600_000;

/// China's rules with every line flagged (`id_near_limit` with a margin of 4) and 48
/// hours to verify.
fn flagging() -> Policy {
    let mut p = cn_policy();
    p.risk.id_near_limit = Some(4);
    p.reverify_deadline_ms = 48 * HOUR_MS;
    p
}

/// A flagged line on card `i` (ID `100 + i`), active: its activation.
async fn flagged_line(s: &dyn StoreAdmin, key: &str, i: u32) -> Order {
    let check = check_with(
        &flagging(),
        ENTERPRISE,
        Some(online_subscriber(100 + i)),
        ChannelRef::Online,
    );
    let o = created(s, checked(key, i, &check)).await;
    advance(s, &o, OrderStatus::Active, Effect::Activate).await
}

async fn line(s: &dyn StoreAdmin, m: &Msisdn) -> Subscription {
    s.subscription(T, m.as_str())
        .await
        .expect("read")
        .expect("line")
}

fn deadline(l: &Subscription) -> u64 {
    l.verification.deadline_ms().expect("pending")
}

fn result(m: &Msisdn, result: VerifierResult, key: &str, now_ms: u64) -> NewVerification {
    NewVerification {
        tenant: T.into(),
        msisdn: m.clone(),
        evidence: VerificationEvidence::Video(format!("v-{key}")),
        channel: ChannelKind::Online,
        result,
        verifier_ref: Some(format!("tx-{key}")),
        actor: Actor {
            key_prefix: "sk_op".into(),
            role: "operator".into(),
        },
        audit_actor: Default::default(),
        order_id: format!("ord_{key}"),
        now_ms,
        plan: gateway::engine::machine::plan,
    }
}

async fn record(s: &dyn StoreAdmin, v: NewVerification) -> VerificationOutcome {
    s.record_verification(v).await.expect("record")
}

fn actions(chain: &[gateway::compliance::audit::AuditRecord], prefix: &str) -> Vec<String> {
    chain
        .iter()
        .filter(|r| r.action.starts_with(prefix))
        .map(|r| r.action.clone())
        .collect()
}

pub async fn a_flagged_line_opens_pending_with_its_deadline_indexed(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    let a = flagged_line(s, "f", 0).await;
    let l = line(s, &a.msisdn).await;
    assert_eq!(
        l.verification,
        Verification::Pending {
            rules: vec![RiskRule::IdNearLimit],
            since_ms: a.updated_at_ms,
            deadline_ms: a.updated_at_ms + 48 * HOUR_MS,
        }
    );
    assert_eq!(gateway::store::api_state(&l), "pending_verification");
    assert_eq!(
        s.next_reverify_deadline().await.expect("next"),
        Some(deadline(&l))
    );
    let required: Vec<_> = all_events(s, T)
        .await
        .into_iter()
        .filter(|e| e.event_type == EventType::SubscriptionVerificationRequired)
        .collect();
    assert_eq!(required.len(), 1);
    assert_eq!(required[0].subject.as_deref(), Some(l.id.as_str()));
    assert_eq!(
        required[0].data["verification"]["rules"][0],
        "id_near_limit"
    );
    let chain = audit_chain(s).await;
    assert_eq!(actions(&chain, "verification."), ["verification.required"]);
    // A line without a risk hit opens clear and is not indexed.
    let plain = active_line(s, "p", 1).await;
    assert_eq!(
        line(s, &plain.msisdn).await.verification,
        Verification::Clear
    );
    assert_eq!(
        s.next_reverify_deadline().await.expect("next"),
        Some(deadline(&l))
    );
}

pub async fn the_deadline_suspends_once_and_waits_for_a_busy_line(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let a = flagged_line(s, "f", 0).await;
    let due = deadline(&line(s, &a.msisdn).await);
    let plan = gateway::engine::machine::plan;
    assert!(
        s.expire_reverifications(due - 1, plan)
            .await
            .expect("sweep")
            .is_empty()
    );
    // Busy with another order at the deadline: looked at again later, still pending.
    let mut busy = lifecycle(OrderKind::Suspend, &a.msisdn, "busy");
    busy.reason = Some(SuspensionReason::CustomerRequest);
    let busy = lifecycle_created(s, busy).await;
    assert!(
        s.expire_reverifications(due, plan)
            .await
            .expect("sweep")
            .is_empty()
    );
    assert!(matches!(
        line(s, &a.msisdn).await.verification,
        Verification::Pending { .. }
    ));
    let retry = s
        .next_reverify_deadline()
        .await
        .expect("next")
        .expect("retry");
    assert!(retry > due, "{retry} after {due}");
    advance(s, &busy, OrderStatus::Completed, Effect::Complete).await;
    let swept = s.expire_reverifications(retry, plan).await.expect("sweep");
    assert_eq!(swept.len(), 1, "{swept:?}");
    let o = &swept[0];
    let l = o.lifecycle.as_ref().expect("lifecycle");
    assert_eq!(
        (o.kind, l.reason, l.actor.role.as_str()),
        (
            OrderKind::Suspend,
            Some(SuspensionReason::Regulatory),
            "system"
        )
    );
    let after = line(s, &a.msisdn).await;
    assert_eq!(after.inflight.as_deref(), Some(o.id.as_str()));
    assert_eq!(
        after.verification,
        Verification::Suspended {
            rules: vec![RiskRule::IdNearLimit],
            cause: SuspendCause::Expired
        }
    );
    assert_eq!(s.next_reverify_deadline().await.expect("next"), None);
    assert!(
        s.expire_reverifications(retry + DAY_MS, plan)
            .await
            .expect("sweep")
            .is_empty()
    );
    advance(s, o, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(
        line(s, &a.msisdn).await.suspension_reasons,
        [
            SuspensionReason::CustomerRequest,
            SuspensionReason::Regulatory
        ]
    );
    let chain = audit_chain(s).await;
    assert_eq!(
        actions(&chain, "verification."),
        ["verification.required", "verification.expired"]
    );
}

pub async fn an_operators_regulatory_hold_outlasts_a_passed_verification(s: &dyn StoreAdmin) {
    use gateway::store::RegulatoryHolder::{Operator, Verification as Ours};
    seed(s, T, 0..1, 1).await;
    let a = flagged_line(s, "r", 0).await;
    let due = deadline(&line(s, &a.msisdn).await);
    let plan = gateway::engine::machine::plan;
    let regulatory = |kind, key| {
        let mut new = lifecycle(kind, &a.msisdn, key);
        new.reason = Some(SuspensionReason::Regulatory);
        new
    };
    // An operator suspends the pending line for `regulatory`.
    let op = lifecycle_created(s, regulatory(OrderKind::Suspend, "op")).await;
    advance(s, &op, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(line(s, &a.msisdn).await.regulatory_by, [Operator]);
    // The deadline: no order (barred already), the verification's hold beside it.
    assert!(
        s.expire_reverifications(due, plan)
            .await
            .expect("sweep")
            .is_empty()
    );
    let l = line(s, &a.msisdn).await;
    assert!(matches!(l.verification, Verification::Suspended { .. }));
    assert_eq!(
        (l.inflight.as_deref(), l.regulatory_by.as_slice()),
        (None, &[Ours, Operator][..])
    );
    // The operator's hold is there: a second suspend adds nothing.
    assert!(matches!(
        s.create_lifecycle(regulatory(OrderKind::Suspend, "op2"))
            .await
            .expect("create"),
        gateway::store::LifecycleOutcome::Rejected(LifecycleRejection::ReasonPresent)
    ));
    // A pass lifts the verification's hold only.
    let VerificationOutcome::Recorded {
        subscription,
        order,
    } = record(s, result(&a.msisdn, VerifierResult::Passed, "p", due + 1)).await
    else {
        panic!("not recorded")
    };
    assert!(order.is_none(), "no resume: {order:?}");
    assert_eq!(
        (
            subscription.state,
            subscription.suspension_reasons.as_slice()
        ),
        (
            SubscriptionState::Suspended,
            &[SuspensionReason::Regulatory][..]
        )
    );
    assert_eq!(line(s, &a.msisdn).await.regulatory_by, [Operator]);
    // The operator's resume lifts it.
    let up = lifecycle_created(s, regulatory(OrderKind::Resume, "up")).await;
    advance(s, &up, OrderStatus::Completed, Effect::Complete).await;
    let l = line(s, &a.msisdn).await;
    assert_eq!(
        (l.state, l.regulatory_by.as_slice()),
        (SubscriptionState::Active, &[][..])
    );
}

/// A failed result's suspend (asked by an operator key) that the HLR refuses for good is
/// ordered again by the timer, as the deadline's own is (`order_audit`'s
/// `a_failed_timer_suspend_is_ordered_again`).
pub async fn a_failed_results_suspend_is_ordered_again(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let a = flagged_line(s, "x", 0).await;
    let now = NOW + HOUR_MS;
    let VerificationOutcome::Recorded { order, .. } =
        record(s, result(&a.msisdn, VerifierResult::Failed, "x1", now)).await
    else {
        panic!("not recorded")
    };
    let suspend = *order.expect("a suspend order");
    assert_eq!(
        suspend.lifecycle.as_ref().map(|l| l.actor.role.as_str()),
        Some("operator")
    );
    let failed = advance(s, &suspend, OrderStatus::Failed, Effect::Release).await;
    assert!(line(s, &a.msisdn).await.suspension_reasons.is_empty());
    let retry = failed.updated_at_ms + gateway::store::BUSY_RETRY_MS;
    assert_eq!(s.next_reverify_deadline().await.expect("next"), Some(retry));
    let plan = gateway::engine::machine::plan;
    let again = s.expire_reverifications(retry, plan).await.expect("sweep");
    assert_eq!(again.len(), 1, "{again:?}");
    advance(s, &again[0], OrderStatus::Completed, Effect::Complete).await;
    let l = line(s, &a.msisdn).await;
    assert_eq!(l.suspension_reasons, [SuspensionReason::Regulatory]);
    assert_eq!(
        l.regulatory_by,
        [gateway::store::RegulatoryHolder::Verification]
    );
    assert_eq!(s.next_reverify_deadline().await.expect("next"), None);
}

pub async fn results_clear_suspend_or_resume_and_refusals_change_nothing(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let now = NOW + HOUR_MS;
    // In time: cleared, with no order and no deadline left.
    let a = flagged_line(s, "a", 0).await;
    let before = line(s, &a.msisdn).await;
    let mut store_video = result(&a.msisdn, VerifierResult::Passed, "x", now);
    store_video.channel = ChannelKind::Store;
    let VerificationOutcome::Refused(r) = record(s, store_video).await else {
        panic!("not refused")
    };
    assert_eq!(r.code, "verification_evidence_required");
    assert_eq!(
        line(s, &a.msisdn).await,
        before,
        "a refusal changes nothing"
    );
    let VerificationOutcome::Recorded {
        subscription,
        order,
    } = record(s, result(&a.msisdn, VerifierResult::Passed, "a1", now)).await
    else {
        panic!("not recorded")
    };
    assert!(order.is_none());
    assert_eq!(subscription.verification, Verification::Clear);
    assert_eq!(s.next_reverify_deadline().await.expect("next"), None);
    let VerificationOutcome::Refused(r) =
        record(s, result(&a.msisdn, VerifierResult::Passed, "a2", now)).await
    else {
        panic!("not refused")
    };
    assert_eq!((r.status, r.code), (409, "verification_not_pending"));

    // Failed: suspended at once; a pass while that order is in flight is refused as busy;
    // a pass after it resumes the line.
    let b = flagged_line(s, "b", 1).await;
    let VerificationOutcome::Recorded { order, .. } =
        record(s, result(&b.msisdn, VerifierResult::Failed, "b1", now)).await
    else {
        panic!("not recorded")
    };
    let suspend = *order.expect("a suspend order");
    assert_eq!(suspend.kind, OrderKind::Suspend);
    let held = line(s, &b.msisdn).await;
    let VerificationOutcome::Rejected(LifecycleRejection::Busy(id)) =
        record(s, result(&b.msisdn, VerifierResult::Passed, "b2", now)).await
    else {
        panic!("not busy")
    };
    assert_eq!(id, suspend.id);
    assert_eq!(
        line(s, &b.msisdn).await,
        held,
        "a busy line changes nothing"
    );
    advance(s, &suspend, OrderStatus::Completed, Effect::Complete).await;
    let l = line(s, &b.msisdn).await;
    assert_eq!(l.state, SubscriptionState::Suspended);
    assert!(matches!(
        l.verification,
        Verification::Suspended {
            cause: SuspendCause::Failed,
            ..
        }
    ));
    let VerificationOutcome::Recorded { order, .. } =
        record(s, result(&b.msisdn, VerifierResult::Passed, "b3", now)).await
    else {
        panic!("not recorded")
    };
    let resume = *order.expect("a resume order");
    assert_eq!(
        (
            resume.kind,
            resume.lifecycle.as_ref().and_then(|l| l.reason)
        ),
        (OrderKind::Resume, Some(SuspensionReason::Regulatory))
    );
    advance(s, &resume, OrderStatus::Completed, Effect::Complete).await;
    let l = line(s, &b.msisdn).await;
    assert_eq!(
        (l.state, l.verification.clone()),
        (SubscriptionState::Active, Verification::Clear)
    );

    // No such line, or another tenant's.
    let mut other = result(&b.msisdn, VerifierResult::Passed, "o", now);
    other.tenant = OTHER.into();
    for v in [
        result(&msisdn("8613900000000"), VerifierResult::Passed, "n", now),
        other,
    ] {
        assert!(matches!(
            record(s, v).await,
            VerificationOutcome::Rejected(LifecycleRejection::NotFound)
        ));
    }
    let verified = all_events(s, T)
        .await
        .iter()
        .filter(|e| e.event_type == EventType::SubscriptionVerified)
        .count();
    assert_eq!(verified, 2);
    let chain = audit_chain(s).await;
    assert_eq!(
        actions(&chain, "verification.p").len() + actions(&chain, "verification.f").len(),
        3
    );
}

pub async fn the_deadline_survives_a_reopen(b: &mut Backend) {
    seed(b.store(), T, 0..1, 1).await;
    let a = flagged_line(b.store(), "f", 0).await;
    let due = deadline(&line(b.store(), &a.msisdn).await);
    if !b.reopen().await {
        return; // Nothing outlives the in-memory store.
    }
    let s = b.store();
    assert_eq!(s.next_reverify_deadline().await.expect("next"), Some(due));
    let swept = s
        .expire_reverifications(due, gateway::engine::machine::plan)
        .await
        .expect("sweep");
    assert_eq!(swept.len(), 1);
}
