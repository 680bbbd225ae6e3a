//! create_lifecycle and what advance_order does when a lifecycle order concludes: the
//! busy rule (also between nodes), refusals, and each kind's change to the line and its
//! inventory; a failed order returns what it reserved.

use super::*;
use gateway::store::{LifecycleRejection, Rejection, StoreError, SubscriptionState};

async fn number_state(s: &PgStore, m: &Msisdn) -> String {
    s.client()
        .await
        .expect("c")
        .query_one(
            "SELECT state FROM numbers WHERE msisdn = $1",
            &[&m.as_str()],
        )
        .await
        .expect("number")
        .get(0)
}

fn refused(o: Result<LifecycleOutcome, StoreError>) -> LifecycleRejection {
    match o {
        Ok(LifecycleOutcome::Rejected(r)) => r,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_line_takes_one_order_at_a_time_and_each_kind_changes_it() {
    let pg = server();
    let (s, _) = store(&pg, "lifecycle").await;
    let (_, m) = line(&s, "a1", 1).await;
    // Suspend: the line is busy until the order ends; a second order is refused.
    let sus = create_lifecycle(&s, suspend("l1", &m, SuspensionReason::NonPayment)).await;
    assert_eq!(sus.lifecycle.as_ref().expect("l").subscription, "sub_a1");
    assert!(
        !sus.lifecycle.as_ref().expect("l").plan.is_empty(),
        "planned"
    );
    let owner: Option<String> = order_column(&s, &sus.id, "lease_owner").await;
    assert_eq!(owner.as_deref(), Some("a"));
    let r = refused(
        s.create_lifecycle(lifecycle("l2", &m, OrderKind::Terminate))
            .await,
    );
    assert_eq!(r, LifecycleRejection::Busy(sus.id.clone()));
    match s
        .create_lifecycle(suspend("l1", &m, SuspensionReason::NonPayment))
        .await
    {
        Ok(LifecycleOutcome::Replayed(o)) => assert_eq!(o.id, sus.id),
        other => panic!("{other:?}"),
    }
    let line = s
        .subscription("acme", m.as_str())
        .await
        .expect("r")
        .expect("line");
    assert_eq!(line.inflight.as_deref(), Some(sus.id.as_str()));
    advance(&s, &sus, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription("acme", m.as_str())
        .await
        .expect("r")
        .expect("line");
    assert_eq!(line.state, SubscriptionState::Suspended);
    assert_eq!(line.suspension_reasons, [SuspensionReason::NonPayment]);
    assert_eq!((line.inflight, line.history.len()), (None, 2));
    let r = refused(
        s.create_lifecycle(suspend("l3", &m, SuspensionReason::NonPayment))
            .await,
    );
    assert_eq!(r, LifecycleRejection::ReasonPresent);
    let mut resume = lifecycle("l4", &m, OrderKind::Resume);
    resume.reason = Some(SuspensionReason::NonPayment);
    let res = create_lifecycle(&s, resume).await;
    advance(&s, &res, OrderStatus::Completed, Effect::Complete).await;
    let line = s
        .subscription("acme", m.as_str())
        .await
        .expect("r")
        .expect("line");
    assert_eq!(line.state, SubscriptionState::Active);
    // Number change: the new number assigned, the old quarantined, the line found by
    // its new number only.
    let mut change = lifecycle("l5", &m, OrderKind::NumberChange);
    change.number = Some(NumberChoice::Auto);
    let nc = create_lifecycle(&s, change).await;
    let new_m = nc
        .lifecycle
        .as_ref()
        .expect("l")
        .new_msisdn
        .clone()
        .expect("new number");
    assert_eq!(number_state(&s, &new_m).await, "reserved");
    advance(&s, &nc, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(number_state(&s, &new_m).await, "assigned");
    assert_eq!(number_state(&s, &m).await, "quarantined");
    assert_eq!(s.subscription("acme", m.as_str()).await.expect("r"), None);
    let line = s
        .subscription("acme", new_m.as_str())
        .await
        .expect("r")
        .expect("line");
    assert_eq!(line.id, "sub_a1");
    // SIM swap to card 2: card 1 retired, card 2 active, the line on card 2.
    let sw = create_lifecycle(&s, swap("l6", &new_m, 2)).await;
    advance(&s, &sw, OrderStatus::Completed, Effect::Complete).await;
    let old = s.get_sim(&iccid(1)).await.expect("r").expect("sim");
    assert!(matches!(old.state, SimState::Retired { .. }));
    let new = s.get_sim(&iccid(2)).await.expect("r").expect("sim");
    assert_eq!(
        new.state,
        SimState::Active {
            order: sw.id.clone()
        }
    );
    let line = s
        .subscription("acme", new_m.as_str())
        .await
        .expect("r")
        .expect("line");
    assert_eq!(line.iccid, iccid(2));
    // Terminate: card retired, number quarantined, the line no longer found by them.
    let t = create_lifecycle(&s, lifecycle("l7", &new_m, OrderKind::Terminate)).await;
    advance(&s, &t, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(
        s.subscription("acme", new_m.as_str()).await.expect("r"),
        None
    );
    assert_eq!(number_state(&s, &new_m).await, "quarantined");
    let card: Option<String> = s
        .client()
        .await
        .expect("c")
        .query_one("SELECT iccid FROM subscriptions WHERE id = 'sub_a1'", &[])
        .await
        .expect("row")
        .get(0);
    assert_eq!(card, None);
    let r = refused(
        s.create_lifecycle(lifecycle("l8", &new_m, OrderKind::Suspend))
            .await,
    );
    assert_eq!(r, LifecycleRejection::NotFound);
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!(
        (c.sims_active, c.sims_reserved, c.numbers_quarantined),
        (0, 0, 2)
    );
    let retired = count(&s, "SELECT COUNT(*) FROM sims WHERE state = 'retired'").await;
    assert_eq!(retired, 2);
    s.flush_events().await.expect("flush");
    let public = s.public_events("acme", 0, None, 100).await.expect("events");
    let types: Vec<&str> = public.iter().map(|e| e.event_type.as_str()).collect();
    for t in [
        "subscription.suspended",
        "subscription.resumed",
        "subscription.number_changed",
        "subscription.sim_swapped",
        "subscription.terminated",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
}

#[tokio::test]
async fn a_failed_order_returns_what_it_reserved_and_leaves_the_line() {
    let pg = server();
    let (s, _) = store(&pg, "lifecycle_fail").await;
    let (_, m) = line(&s, "a1", 1).await;
    let mut change = lifecycle("l1", &m, OrderKind::NumberChange);
    change.number = Some(NumberChoice::Choose(msisdn(7)));
    let nc = create_lifecycle(&s, change).await;
    assert_eq!(
        number_state(&s, &msisdn(7)).await,
        "reserved",
        "held for the order"
    );
    advance(&s, &nc, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(number_state(&s, &msisdn(7)).await, "available");
    let sw = create_lifecycle(&s, swap("l2", &m, 2)).await;
    advance(&s, &sw, OrderStatus::Failed, Effect::Release).await;
    let card = s.get_sim(&iccid(2)).await.expect("r").expect("sim");
    assert_eq!(card.state, SimState::Available);
    let line = s
        .subscription("acme", m.as_str())
        .await
        .expect("r")
        .expect("line");
    assert_eq!(
        (line.iccid.clone(), line.msisdn.clone()),
        (iccid(1), m.clone())
    );
    assert_eq!(
        line.history
            .iter()
            .filter(|h| h.outcome == "failed")
            .count(),
        2
    );
    assert_eq!(line.inflight, None);
    // Refusals: the same number, a card not in stock, a line of another tenant.
    let mut same = lifecycle("l3", &m, OrderKind::NumberChange);
    same.number = Some(NumberChoice::Choose(m.clone()));
    assert_eq!(
        refused(s.create_lifecycle(same).await),
        LifecycleRejection::SameNumber
    );
    let r = refused(s.create_lifecycle(swap("l4", &m, 1)).await);
    assert_eq!(
        r,
        LifecycleRejection::Inventory(Rejection::SimNotAvailable { state: "active" })
    );
    let mut foreign = lifecycle("l5", &m, OrderKind::Terminate);
    foreign.tenant = "other".into();
    assert_eq!(
        refused(s.create_lifecycle(foreign).await),
        LifecycleRejection::NotFound
    );
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM orders WHERE inflight").await,
        0
    );
}

#[tokio::test]
async fn two_nodes_ordering_on_one_line_at_once_one_order_is_created() {
    let pg = server();
    let (s, url) = store(&pg, "lifecycle_race").await;
    let (_, m) = line(&s, "a1", 1).await;
    let b = node(&url, "b").await;
    let (s, b) = (std::sync::Arc::new(s), std::sync::Arc::new(b));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let st = if i % 2 == 0 { s.clone() } else { b.clone() };
            let m = m.clone();
            tokio::spawn(async move {
                let r = SuspensionReason::ALL[i % SuspensionReason::ALL.len()];
                st.create_lifecycle(suspend(&format!("l{i}"), &m, r)).await
            })
        })
        .collect();
    let mut created = Vec::new();
    for t in tasks {
        match t.await.expect("task").expect("store") {
            LifecycleOutcome::Created(o) => created.push(o.id),
            LifecycleOutcome::Rejected(LifecycleRejection::Busy(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    let line = s
        .subscription("acme", m.as_str())
        .await
        .expect("r")
        .expect("line");
    assert_eq!(line.inflight.as_ref(), created.first());
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM orders WHERE inflight").await,
        1
    );
}
