//! What completing or failing a lifecycle order does to its line and the stock: reasons
//! stacking and lifting, a new number, termination, a SIM swap and its failure.

use crate::fixture::*;
use gateway::order::{Effect, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::{
    EventType, NumberChoice, SimState, StoreAdmin, SubscriptionQuery, SubscriptionState, SwapSim,
};

pub async fn a_completed_suspend_and_resume_change_the_line(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let a = active_line(s, "a", 0).await;
    let events = all_events(s, T).await.len();
    let step = |kind, reason, key: &str| {
        let mut n = lifecycle(kind, &a.msisdn, key);
        n.reason = Some(reason);
        n
    };
    let o = lifecycle_created(
        s,
        step(OrderKind::Suspend, SuspensionReason::NonPayment, "s1"),
    )
    .await;
    let done = advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(line.state, SubscriptionState::Suspended);
    assert_eq!(line.suspension_reasons, vec![SuspensionReason::NonPayment]);
    assert_eq!(line.updated_at_ms, done.updated_at_ms);
    let h = line.history.last().expect("history");
    assert_eq!(
        (h.order_id.as_str(), h.kind, h.outcome.as_str()),
        ("ord_s1", OrderKind::Suspend, "completed")
    );
    assert_eq!(
        (h.reason, h.at_ms),
        (Some(SuspensionReason::NonPayment), done.updated_at_ms)
    );
    assert_eq!(h.actor.as_ref().map(|a| a.role.as_str()), Some("operator"));
    let published: Vec<(EventType, Option<String>)> = all_events(s, T).await[events..]
        .iter()
        .map(|e| (e.event_type, e.subject.clone()))
        .collect();
    let subject = Some("sub_a".to_owned());
    // The line's event comes first, then the order's, in the completing commit (as
    // `tests/lifecycle.rs` sees them through the API).
    assert_eq!(
        published,
        vec![
            (EventType::OrderCreated, subject.clone()),
            (EventType::SubscriptionSuspended, subject.clone()),
            (EventType::OrderCompleted, subject.clone()),
        ]
    );
    // Reasons stack; the plan of the next order sees the line barred.
    let o2 = lifecycle_created(
        s,
        step(OrderKind::Suspend, SuspensionReason::CustomerRequest, "s2"),
    )
    .await;
    let l2 = o2.lifecycle.clone().expect("lifecycle");
    assert!(l2.line.barred);
    assert_eq!(l2.reasons_before, vec![SuspensionReason::NonPayment]);
    advance(s, &o2, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(
        line.suspension_reasons,
        vec![
            SuspensionReason::NonPayment,
            SuspensionReason::CustomerRequest
        ]
    );
    let r1 = lifecycle_created(
        s,
        step(OrderKind::Resume, SuspensionReason::NonPayment, "r1"),
    )
    .await;
    advance(s, &r1, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(
        (line.state, line.suspension_reasons.clone()),
        (
            SubscriptionState::Suspended,
            vec![SuspensionReason::CustomerRequest]
        )
    );
    let r2 = lifecycle_created(
        s,
        step(OrderKind::Resume, SuspensionReason::CustomerRequest, "r2"),
    )
    .await;
    advance(s, &r2, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(line.state, SubscriptionState::Active);
    assert!(line.suspension_reasons.is_empty());
    assert_eq!(line.history.len(), 5);
}

pub async fn a_number_change_and_a_termination_complete(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 4).await;
    let a = active_line(s, "a", 0).await;
    assert_eq!(a.msisdn, number(T, 0));
    let mut change = lifecycle(OrderKind::NumberChange, &a.msisdn, "n");
    change.number = Some(NumberChoice::Choose(number(T, 2)));
    let o = lifecycle_created(s, change).await;
    assert_eq!(
        o.lifecycle.as_ref().and_then(|l| l.new_msisdn.clone()),
        Some(number(T, 2))
    );
    assert_eq!(
        counts(s, T).await.numbers_available,
        2,
        "the new number is reserved"
    );
    let done = advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(
        s.subscription(T, a.msisdn.as_str()).await.expect("sub"),
        None
    );
    let line = s
        .subscription(T, number(T, 2).as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!((line.id.as_str(), &line.iccid), ("sub_a", &a.iccid));
    assert!(line.history.last().and_then(|h| h.change.clone()).is_some());
    let until = done.updated_at_ms + u64::from(QUARANTINE_DAYS) * DAY_MS;
    assert_eq!(
        s.quarantined(T, 10).await.expect("list"),
        vec![(a.msisdn.clone(), until)]
    );
    // Terminated: the card is retired for good, the number quarantined.
    let t = lifecycle_created(s, lifecycle(OrderKind::Terminate, &number(T, 2), "t")).await;
    let ended = advance(s, &t, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(
        s.subscription(T, number(T, 2).as_str()).await.expect("sub"),
        None
    );
    assert_eq!(
        s.get_sim(&a.iccid).await.expect("sim").map(|c| c.state),
        Some(SimState::Retired {
            order: t.id.clone()
        })
    );
    let q = s.quarantined(T, 10).await.expect("list");
    assert!(
        q.contains(&(
            number(T, 2),
            ended.updated_at_ms + u64::from(QUARANTINE_DAYS) * DAY_MS
        )),
        "{q:?}"
    );
    let c = counts(s, T).await;
    assert_eq!(
        (
            c.sims_active,
            c.sims_available,
            c.numbers_quarantined,
            c.numbers_available
        ),
        (0, 0, 2, 2)
    );
    let page = s
        .subscriptions(
            T,
            &SubscriptionQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("page");
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].state, SubscriptionState::Terminated);
    let types: Vec<EventType> = all_events(s, T)
        .await
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert!(
        types.contains(&EventType::SubscriptionNumberChanged)
            && types.contains(&EventType::SubscriptionTerminated),
        "{types:?}"
    );
}

pub async fn a_failed_swap_returns_its_card(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 4).await;
    let a = active_line(s, "a", 0).await;
    let mut swap = lifecycle(OrderKind::SimSwap, &a.msisdn, "w1");
    swap.sim = Some(SwapSim::Physical(iccid(1)));
    let o = lifecycle_created(s, swap).await;
    assert_eq!(
        o.lifecycle
            .as_ref()
            .and_then(|l| l.new_line.as_ref())
            .map(|l| l.iccid.clone()),
        Some(iccid(1))
    );
    assert_eq!(
        s.get_sim(&iccid(1)).await.expect("sim").map(|c| c.state),
        Some(SimState::Reserved {
            order: o.id.clone()
        })
    );
    let failing = advance(s, &o, OrderStatus::Compensating, Effect::None).await;
    advance(s, &failing, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(
        s.get_sim(&iccid(1)).await.expect("sim").map(|c| c.state),
        Some(SimState::Available)
    );
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(
        (line.iccid.clone(), line.inflight.clone()),
        (a.iccid.clone(), None)
    );
    assert_eq!(
        line.history.last().map(|h| h.outcome.as_str()),
        Some("failed")
    );
    // A failed number change returns its number.
    let mut change = lifecycle(OrderKind::NumberChange, &a.msisdn, "n1");
    change.number = Some(NumberChoice::Choose(number(T, 3)));
    let n = lifecycle_created(s, change).await;
    advance(s, &n, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(counts(s, T).await.numbers_available, 3);
    // A completed swap moves the line; the old card is retired.
    let mut swap = lifecycle(OrderKind::SimSwap, &a.msisdn, "w2");
    swap.sim = Some(SwapSim::Physical(iccid(2)));
    let w = lifecycle_created(s, swap).await;
    advance(s, &w, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(
        (line.iccid.clone(), line.imsi.clone()),
        (iccid(2), sim(T, 2).imsi)
    );
    assert_eq!(
        s.get_sim(&iccid(0)).await.expect("sim").map(|c| c.state),
        Some(SimState::Retired {
            order: w.id.clone()
        })
    );
    assert_eq!(
        s.get_sim(&iccid(2)).await.expect("sim").map(|c| c.state),
        Some(SimState::Active {
            order: w.id.clone()
        })
    );
    let c = counts(s, T).await;
    assert_eq!(
        (c.sims_active, c.sims_available, c.sims_reserved),
        (1, 1, 0)
    );
    let by_card = SubscriptionQuery {
        iccid: Some(iccid(2)),
        limit: 10,
        ..Default::default()
    };
    let page = s.subscriptions(T, &by_card).await.expect("page");
    assert_eq!(
        page.data.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
        vec!["sub_a"]
    );
    let old = SubscriptionQuery {
        iccid: Some(iccid(0)),
        limit: 10,
        ..Default::default()
    };
    assert!(
        s.subscriptions(T, &old)
            .await
            .expect("page")
            .data
            .is_empty()
    );
}
