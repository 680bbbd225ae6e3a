//! What the store audits and decides about lifecycle orders for the real-name controls:
//! every lifecycle order's creation and status changes are in the chain, named by the
//! line's activation so that the annual report counts them where the line was sold; a
//! SIM swap under a `sim_swap` risk rule puts its line into re-verification when it
//! completes; a `regulatory` suspend the timer ordered that fails is ordered again.

use crate::fixture::*;
use gateway::compliance::reverify::{SuspendCause, Verification};
use gateway::compliance::risk::RiskRule;
use gateway::compliance::{ChannelRef, Market, Policy};
use gateway::order::{Effect, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::{BUSY_RETRY_MS, EventType, StoreAdmin, Subscription, SwapSim};
use sim_profiles::Msisdn;

const HOUR_MS: u64 = 3_600_000;

async fn line(s: &dyn StoreAdmin, m: &Msisdn) -> Subscription {
    s.subscription(T, m.as_str())
        .await
        .expect("read")
        .expect("line")
}

fn attr<'a>(r: &'a gateway::compliance::audit::AuditRecord, name: &str) -> Option<&'a str> {
    r.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn lifecycle_orders_are_audited_where_the_line_was_sold(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let a = active_line(s, "a", 0).await;
    let mut suspend = lifecycle(OrderKind::Suspend, &a.msisdn, "s1");
    suspend.reason = Some(SuspensionReason::NonPayment);
    let o = lifecycle_created(s, suspend).await;
    advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
    let t = lifecycle_created(s, lifecycle(OrderKind::Terminate, &a.msisdn, "t1")).await;
    advance(s, &t, OrderStatus::Completed, Effect::Complete).await;
    let chain = audit_chain(s).await;
    let of = |id: &str| -> Vec<String> {
        chain
            .iter()
            .filter(|r| r.subject.order_id.as_deref() == Some(id))
            .map(|r| r.action.clone())
            .collect()
    };
    assert_eq!(of("ord_s1"), ["order.created", "order.completed"]);
    assert_eq!(of("ord_t1"), ["order.created", "order.completed"]);
    let created = chain
        .iter()
        .find(|r| r.action == "order.created" && r.subject.order_id.as_deref() == Some("ord_s1"))
        .expect("created");
    // Who asked, about which line, and why; the card and number, never more.
    assert_eq!(
        (
            created.actor.key_id.as_str(),
            created.actor.channel.as_str()
        ),
        ("sk_acme_ABCD", "operator")
    );
    assert_eq!(attr(created, "kind"), Some("suspend"));
    assert_eq!(attr(created, "reason"), Some("non_payment"));
    assert_eq!(attr(created, "line"), Some(a.id.as_str()));
    assert_eq!(created.subject.msisdn.as_deref(), Some(a.msisdn.as_str()));
    // The report counts the suspension and the termination once each.
    let mut report = gateway::compliance::report::Report::new(0, u64::MAX);
    for r in &chain {
        report.add(r);
    }
    let total = |f: fn(&gateway::compliance::report::Counts) -> u64| -> u64 {
        report.rows().values().map(f).sum()
    };
    assert_eq!(total(|c| c.suspensions), 1);
    assert_eq!(total(|c| c.terminations), 1);
}

/// China's rules (its `sim_swap` rule on) with 48 hours to verify, on the tenant.
fn cn_tenant() -> gateway::store::Tenant {
    let mut t = tenant(T);
    t.market = Some(Market::Cn);
    t
}

pub async fn a_swap_under_the_sim_swap_rule_flags_its_line(s: &dyn StoreAdmin) {
    seed_with(s, cn_tenant(), 0..2, 0..0, 1).await;
    let a = active_line(s, "a", 0).await;
    assert_eq!(line(s, &a.msisdn).await.verification, Verification::Clear);
    let mut swap = lifecycle(OrderKind::SimSwap, &a.msisdn, "w1");
    swap.sim = Some(SwapSim::Physical(iccid(1)));
    let o = lifecycle_created(s, swap).await;
    let policy = Policy::for_market(Market::Cn);
    let risk = &o.compliance.as_ref().expect("compliance").risk;
    assert!(
        risk.iter().any(|r| r.starts_with("risk:sim_swap")),
        "{risk:?}"
    );
    // In flight, the line is not flagged yet: a swap that fails changes nothing.
    assert_eq!(line(s, &a.msisdn).await.verification, Verification::Clear);
    let done = advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
    let l = line(s, &a.msisdn).await;
    assert_eq!(l.iccid, iccid(1));
    let deadline = done.updated_at_ms + policy.reverify_deadline_ms;
    assert_eq!(
        l.verification,
        Verification::Pending {
            rules: vec![RiskRule::SimSwap],
            since_ms: done.updated_at_ms,
            deadline_ms: deadline,
        }
    );
    assert_eq!(
        s.next_reverify_deadline().await.expect("next"),
        Some(deadline)
    );
    let required: Vec<_> = all_events(s, T)
        .await
        .into_iter()
        .filter(|e| e.event_type == EventType::SubscriptionVerificationRequired)
        .collect();
    assert_eq!(required.len(), 1);
    let chain = audit_chain(s).await;
    let r = chain
        .iter()
        .find(|r| r.action == "verification.required")
        .expect("audited");
    assert_eq!(r.subject.order_id.as_deref(), Some("ord_w1"));
    assert_eq!(r.reasons, ["risk:sim_swap"]);
}

pub async fn a_failed_timer_suspend_is_ordered_again(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let mut p = cn_policy();
    p.risk.id_near_limit = Some(4);
    p.reverify_deadline_ms = 48 * HOUR_MS;
    let check = check_with(
        &p,
        ENTERPRISE,
        Some(online_subscriber(7)),
        ChannelRef::Online,
    );
    let o = created(s, checked("f", 0, &check)).await;
    let a = advance(s, &o, OrderStatus::Active, Effect::Activate).await;
    let due = line(s, &a.msisdn)
        .await
        .verification
        .deadline_ms()
        .expect("pending");
    let plan = gateway::engine::machine::plan;
    let swept = s.expire_reverifications(due, plan).await.expect("sweep");
    assert_eq!(swept.len(), 1, "{swept:?}");
    // The HLR refused for good: the line is not barred, but must still be.
    let failed = advance(s, &swept[0], OrderStatus::Failed, Effect::Release).await;
    let l = line(s, &a.msisdn).await;
    assert!(l.suspension_reasons.is_empty());
    assert!(matches!(
        l.verification,
        Verification::Suspended {
            cause: SuspendCause::Expired,
            ..
        }
    ));
    let retry = failed.updated_at_ms + BUSY_RETRY_MS;
    assert_eq!(s.next_reverify_deadline().await.expect("next"), Some(retry));
    assert!(
        s.expire_reverifications(retry - 1, plan)
            .await
            .expect("early")
            .is_empty()
    );
    let again = s.expire_reverifications(retry, plan).await.expect("sweep");
    assert_eq!(again.len(), 1, "{again:?}");
    let l2 = again[0].lifecycle.as_ref().expect("lifecycle");
    assert_ne!(again[0].id, swept[0].id);
    assert_eq!(
        (again[0].kind, l2.reason, l2.actor.role.as_str()),
        (
            OrderKind::Suspend,
            Some(SuspensionReason::Regulatory),
            "system"
        )
    );
    advance(s, &again[0], OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(
        line(s, &a.msisdn).await.suspension_reasons,
        [SuspensionReason::Regulatory]
    );
    // Done: nothing left to retry.
    assert_eq!(s.next_reverify_deadline().await.expect("next"), None);
    // A suspend an operator asked for that fails is not the timer's: nothing is retried.
    let mut op = lifecycle(OrderKind::Suspend, &a.msisdn, "op");
    op.reason = Some(SuspensionReason::NonPayment);
    let op = lifecycle_created(s, op).await;
    advance(s, &op, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(s.next_reverify_deadline().await.expect("next"), None);
}
