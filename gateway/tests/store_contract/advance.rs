//! `advance_order`: the optimistic version check, and what each effect does to the
//! inventory and the line; `inflight_orders`.

use crate::fixture::*;
use gateway::order::{Effect, OrderError, OrderStatus};
use gateway::store::{
    EventKind, EventType, InventoryCounts, NumberChoice, SimState, SimType, StoreAdmin, StoreError,
    SubscriptionState,
};

fn step_sent() -> EventKind {
    EventKind::StepSent {
        step: "hlr".into(),
        attempt: 1,
    }
}

pub async fn a_stale_version_conflicts_and_changes_nothing(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    let o = created(s, activation("k", 0)).await;
    let events = s.events(0, 10_000).await.expect("events").len();
    // Skipping a version (another writer's change not seen), and repeating the first.
    let skipped = next(
        &next(&o, OrderStatus::HlrProvisioning, 1),
        OrderStatus::Active,
        1,
    );
    let err = s
        .advance_order(skipped, Effect::Activate, step_sent())
        .await
        .expect_err("a version ahead");
    assert!(
        matches!(&err, StoreError::Conflict(id) if *id == o.id),
        "{err:?}"
    );
    let mut same = o.clone();
    same.status = OrderStatus::HlrProvisioning;
    let err = s
        .advance_order(same, Effect::None, step_sent())
        .await
        .expect_err("the version it has");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(o.clone()));
    assert_eq!(s.events(0, 10_000).await.expect("events").len(), events);
    assert_eq!(counts(s, T).await.sims_reserved, 1);
    assert_eq!(counts(s, T).await.sims_active, 0);
    // The next version applies; the same change again is now stale.
    let v2 = next(&o, OrderStatus::HlrProvisioning, 5);
    s.advance_order(v2.clone(), Effect::None, step_sent())
        .await
        .expect("advance");
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(v2.clone()));
    let err = s
        .advance_order(v2.clone(), Effect::None, step_sent())
        .await
        .expect_err("replayed");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // An order the store does not have conflicts too.
    let mut ghost = next(&o, OrderStatus::HlrProvisioning, 5);
    ghost.id = "act_ghost".into();
    let err = s
        .advance_order(ghost, Effect::None, step_sent())
        .await
        .expect_err("unknown order");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let logged = s.events(0, 10_000).await.expect("events");
    assert_eq!(logged.len(), events + 1);
    assert_eq!(logged.last().map(|e| &e.kind), Some(&step_sent()));
}

pub async fn activation_to_active_opens_the_line(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 3).await;
    let o = created(s, activation("k", 1)).await;
    assert_eq!(
        s.subscription(T, o.msisdn.as_str()).await.expect("sub"),
        None
    );
    let mid = advance(s, &o, OrderStatus::HlrProvisioning, Effect::None).await;
    assert_eq!(counts(s, T).await.sims_reserved, 1, "no effect, no move");
    let done = advance(s, &mid, OrderStatus::Active, Effect::Activate).await;
    assert_eq!(
        s.get_order(T, &o.id).await.expect("get"),
        Some(done.clone())
    );
    assert_eq!(
        s.get_sim(&o.iccid).await.expect("sim").map(|c| c.state),
        Some(SimState::Active {
            order: o.id.clone()
        })
    );
    assert_eq!(
        counts(s, T).await,
        InventoryCounts {
            sims_available: 1,
            sims_active: 1,
            numbers_available: 2,
            ..InventoryCounts::default()
        }
    );
    let line = s
        .subscription(T, o.msisdn.as_str())
        .await
        .expect("sub")
        .expect("the line is open");
    assert_eq!(line.id, "sub_k");
    assert_eq!(
        (&line.tenant, &line.msisdn, &line.iccid, &line.imsi),
        (&o.tenant, &o.msisdn, &o.iccid, &o.imsi)
    );
    assert_eq!(line.sim_type, SimType::Physical);
    assert_eq!(
        (line.product.as_str(), line.hlr_profile_id),
        (PRODUCT, o.hlr_profile_id)
    );
    assert_eq!(line.state, SubscriptionState::Active);
    assert!(line.suspension_reasons.is_empty());
    assert_eq!(line.activation_id, o.id);
    assert_eq!(line.inflight, None);
    assert_eq!(line.history.len(), 1);
    assert_eq!(line.history[0].order_id, o.id);
    assert_eq!(line.history[0].outcome, "active");
    assert_eq!(
        (line.created_at_ms, line.updated_at_ms),
        (done.updated_at_ms, done.updated_at_ms)
    );
    // The number is assigned: neither free nor choosable.
    let mut want_it = activation("k2", 0);
    want_it.number = NumberChoice::Choose(o.msisdn.clone());
    assert!(matches!(
        s.create_activation(want_it).await.expect("create"),
        gateway::store::CreateOutcome::Rejected(gateway::store::Rejection::NumberNotAvailable)
    ));
    let types: Vec<EventType> = all_events(s, T)
        .await
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, vec![EventType::OrderCreated, EventType::OrderActive]);
}

pub async fn failure_releases_the_sim_and_the_number(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 1).await;
    let before = counts(s, T).await;
    let o = created(s, activation("k", 0)).await;
    let mut failing = next(&o, OrderStatus::Compensating, 10);
    failing.error = Some(OrderError {
        code: "hlr_rejected".into(),
        detail: "refused".into(),
    });
    s.advance_order(failing.clone(), Effect::None, step_sent())
        .await
        .expect("compensating");
    let failed = advance(s, &failing, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(failed));
    assert_eq!(counts(s, T).await, before);
    assert_eq!(
        s.get_sim(&o.iccid).await.expect("sim").map(|c| c.state),
        Some(SimState::Available)
    );
    assert_eq!(
        s.subscription(T, o.msisdn.as_str()).await.expect("sub"),
        None
    );
    assert!(s.inflight_orders().await.expect("inflight").is_empty());
    // Card and number are free again: the same card and the only number make a new order.
    let mut again = activation("k2", 0);
    again.number = NumberChoice::Choose(o.msisdn.clone());
    let o2 = created(s, again).await;
    assert_eq!((o2.iccid, o2.msisdn), (o.iccid, o.msisdn));
    let types: Vec<EventType> = all_events(s, T)
        .await
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        vec![
            EventType::OrderCreated,
            EventType::OrderFailed,
            EventType::OrderCreated
        ],
        "a change without effect publishes nothing"
    );
}

pub async fn inflight_orders_are_the_unfinished_ones(s: &dyn StoreAdmin) {
    seed(s, T, 0..4, 4).await;
    assert!(s.inflight_orders().await.expect("inflight").is_empty());
    let a = created(s, activation("a", 0)).await;
    let b = created(s, activation("b", 1)).await;
    let c = created(s, activation("c", 2)).await;
    let b2 = advance(s, &b, OrderStatus::HlrProvisioning, Effect::None).await;
    advance(s, &c, OrderStatus::Active, Effect::Activate).await;
    let mut inflight = s.inflight_orders().await.expect("inflight");
    inflight.sort_by(|x, y| x.id.cmp(&y.id));
    // Each at its latest version.
    assert_eq!(inflight, vec![a.clone(), b2]);
    let f = advance(s, &a, OrderStatus::Compensating, Effect::None).await;
    advance(s, &f, OrderStatus::Failed, Effect::Release).await;
    let ids: Vec<String> = s
        .inflight_orders()
        .await
        .expect("inflight")
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, vec![b.id]);
}
