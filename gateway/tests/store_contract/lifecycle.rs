//! Lifecycle orders on a line: creation (idempotency, one in flight, what it reserves,
//! its plan), refusals, and what completing or failing one does to the line and stock.

use crate::fixture::*;
use crate::subscriptions::complete;
use gateway::order::{Effect, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::{
    CreateOutcome, LifecycleOutcome, LifecycleRejection, NumberChoice, Rejection, StoreAdmin,
    SwapSim,
};

async fn refused(s: &dyn StoreAdmin, new: gateway::store::NewLifecycle) -> LifecycleRejection {
    match s.create_lifecycle(new).await.expect("lifecycle") {
        LifecycleOutcome::Rejected(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub async fn a_lifecycle_order_makes_the_line_busy(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let a = active_line(s, "a", 0).await;
    let mut new = lifecycle(OrderKind::Suspend, &a.msisdn, "s1");
    new.reason = Some(SuspensionReason::NonPayment);
    let o = lifecycle_created(s, new.clone()).await;
    assert_eq!(
        (o.id.as_str(), o.kind, o.status),
        ("ord_s1", OrderKind::Suspend, OrderStatus::Reserved)
    );
    assert_eq!(
        (o.version, o.created_at_ms, o.updated_at_ms),
        (1, NOW + 10_000, NOW + 10_000)
    );
    assert_eq!(
        (&o.iccid, &o.imsi, &o.msisdn),
        (&a.iccid, &a.imsi, &a.msisdn)
    );
    let l = o.lifecycle.clone().expect("lifecycle part");
    assert_eq!(l.subscription, "sub_a");
    assert_eq!(l.reason, Some(SuspensionReason::NonPayment));
    assert_eq!(
        (&l.line.iccid, l.line.msisdn.as_ref(), l.line.barred),
        (&a.iccid, Some(&a.msisdn), false)
    );
    // Planned with the planner given, on the line as it was.
    let mut unplanned = l.clone();
    unplanned.plan.clear();
    assert!(!l.plan.is_empty());
    assert_eq!(
        l.plan,
        gateway::engine::machine::plan(OrderKind::Suspend, &unplanned)
    );
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(o.clone()));
    assert!(s.inflight_orders().await.expect("inflight").contains(&o));
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(line.inflight.as_deref(), Some("ord_s1"));
    // One order in flight per line; the refusal names it.
    let terminate = lifecycle(OrderKind::Terminate, &a.msisdn, "t1");
    assert_eq!(
        refused(s, terminate).await,
        LifecycleRejection::Busy("ord_s1".into())
    );
    // The same key and body: the first order, even while the line is busy with it.
    let mut replay = new.clone();
    replay.order_id = "ord_other".into();
    match s.create_lifecycle(replay).await.expect("replay") {
        LifecycleOutcome::Replayed(r) => assert_eq!(r, o),
        other => panic!("expected a replay, got {other:?}"),
    }
    let mut reused = new;
    reused.body_hash = "h-else".into();
    assert!(matches!(
        s.create_lifecycle(reused).await.expect("reuse"),
        LifecycleOutcome::KeyReused
    ));
    // One key space per tenant: an activation cannot take a lifecycle order's key.
    let mut act = activation("s1", 1);
    act.body_hash = "h-activation".into();
    assert!(matches!(
        s.create_activation(act).await.expect("create"),
        CreateOutcome::KeyReused
    ));
    // Finishing it frees the line.
    advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(line.inflight, None);
    lifecycle_created(s, lifecycle(OrderKind::Terminate, &a.msisdn, "t2")).await;
}

pub async fn lifecycle_rejections_change_nothing(s: &dyn StoreAdmin) {
    seed_with(s, tenant(T), 0..4, 0..0, 3).await;
    seed(s, OTHER, 10..11, 1).await;
    let a = active_line(s, "a", 0).await;
    let b = active_line(s, "b", 1).await;
    let mut theirs = activation("z", 10);
    theirs.tenant = OTHER.into();
    let z = created(s, theirs).await;
    advance(s, &z, OrderStatus::Active, Effect::Activate).await;
    let before = counts(s, T).await;
    let events = all_events(s, T).await.len();

    let r = |kind, key: &str| lifecycle(kind, &a.msisdn, key);
    assert_eq!(
        refused(s, lifecycle(OrderKind::Terminate, &number(T, 2), "x1")).await,
        LifecycleRejection::NotFound
    );
    assert_eq!(
        refused(s, lifecycle(OrderKind::Terminate, &z.msisdn, "x2")).await,
        LifecycleRejection::NotFound,
        "another tenant's line"
    );
    let mut resume = r(OrderKind::Resume, "x3");
    resume.reason = Some(SuspensionReason::NonPayment);
    assert_eq!(refused(s, resume).await, LifecycleRejection::ReasonAbsent);
    let mut same = r(OrderKind::NumberChange, "x4");
    same.number = Some(NumberChoice::Choose(a.msisdn.clone()));
    assert_eq!(refused(s, same).await, LifecycleRejection::SameNumber);
    let mut taken_number = r(OrderKind::NumberChange, "x5");
    taken_number.number = Some(NumberChoice::Choose(b.msisdn.clone()));
    assert_eq!(
        refused(s, taken_number).await,
        LifecycleRejection::Inventory(Rejection::NumberNotAvailable)
    );
    let mut taken_card = r(OrderKind::SimSwap, "x6");
    taken_card.sim = Some(SwapSim::Physical(b.iccid.clone()));
    assert_eq!(
        refused(s, taken_card).await,
        LifecycleRejection::Inventory(Rejection::SimNotAvailable { state: "active" })
    );
    let mut no_profile = r(OrderKind::SimSwap, "x7");
    no_profile.sim = Some(SwapSim::Esim {
        eid: None,
        matching_id: "M".into(),
        confirmation_code: None,
    });
    assert_eq!(
        refused(s, no_profile).await,
        LifecycleRejection::Inventory(Rejection::EsimStockOut {
            profile_type: ESIM_TYPE.into()
        })
    );
    // Suspended for a reason, the same reason again is refused.
    complete(s, OrderKind::Suspend, &a.msisdn, "s").await;
    let mut again = r(OrderKind::Suspend, "x8");
    again.reason = Some(SuspensionReason::NonPayment);
    assert_eq!(refused(s, again).await, LifecycleRejection::ReasonPresent);
    // A terminated line no longer holds its number.
    complete(s, OrderKind::Terminate, &b.msisdn, "t").await;
    let gone = refused(s, lifecycle(OrderKind::Suspend, &b.msisdn, "x9")).await;
    assert!(
        matches!(
            gone,
            LifecycleRejection::NotFound | LifecycleRejection::Terminated
        ),
        "{gone:?}"
    );
    for key in ["x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"] {
        assert_eq!(
            s.activation_idempotency(T, key).await.expect("idem"),
            None,
            "{key}"
        );
    }
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(line.inflight, None);
    assert_eq!(line.history.len(), 2, "activation and the one suspend");
    let after = counts(s, T).await;
    assert_eq!(
        (
            after.sims_available,
            after.sims_reserved,
            after.numbers_available
        ),
        (
            before.sims_available,
            before.sims_reserved,
            before.numbers_available
        )
    );
    let published = all_events(s, T).await.len() - events;
    assert_eq!(
        published, 6,
        "created, completed and the line's event, twice"
    );
}

/// A lifecycle order's create commit can record its first saga step as sent.
pub async fn a_lifecycle_create_can_record_the_first_step_as_sent(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let a = active_line(s, "a", 0).await;
    let mut new = lifecycle(OrderKind::Suspend, &a.msisdn, "s1");
    new.reason = Some(SuspensionReason::NonPayment);
    new.send_ahead = Some(gateway::engine::machine::mark_next_sent);
    let o = lifecycle_created(s, new).await;
    assert_eq!((o.status, o.version), (OrderStatus::InProgress, 1));
    let l = o.lifecycle.clone().expect("lifecycle part");
    assert_eq!(l.plan[0].step, gateway::order::Step::Sent { attempt: 1 });
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(o));
}
