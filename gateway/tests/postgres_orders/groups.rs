//! Activations' creates and advances in group transactions (`group.rs`): writes that
//! arrive while others run wait and are committed together by the next group, each applied
//! as it would be alone; a group that meets an error or a refusal is rolled back and each
//! of its writes runs alone, so only the one that fails fails.
//!
//! The writes are tasks spawned on the test's single-threaded runtime: the first few take
//! the node's turns (two per kind with the test store's pool of 8: `group::turns`) and run
//! alone while the others queue, and the next group carries what was queued by then.

use super::*;
use gateway::store::{Rejection, StoreError};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// Runs `call` on every item in a task of its own; the results, in the order given.
async fn at_once<T, F, Fut>(s: &Arc<PgStore>, items: Vec<T>, call: F) -> Vec<Fut::Output>
where
    F: Fn(Arc<PgStore>, T) -> Fut,
    Fut: std::future::Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let tasks: Vec<_> = items
        .into_iter()
        .map(|item| tokio::spawn(call(s.clone(), item)))
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// Advances every order at once (see [`at_once`]).
async fn advance_at_once(
    s: &Arc<PgStore>,
    advances: Vec<(Order, Effect)>,
) -> Vec<Result<(), StoreError>> {
    at_once(s, advances, |s, (o, e)| async move {
        s.advance_order(o, e, EventKind::OrderActive).await
    })
    .await
}

/// A seeded store of its own (`store`), shared by the tasks.
async fn shared(pg: &PgServer, db: &str) -> Arc<PgStore> {
    Arc::new(store(pg, db).await.0)
}

/// Sales `k{i}` (order `act_{i}`) of card `i`, for each `i` of `cards`.
fn sales(cards: std::ops::RangeInclusive<u32>) -> Vec<NewActivation> {
    cards
        .map(|i| activation(&format!("k{i}"), &format!("act_{i}"), Some(i)))
        .collect()
}

/// Creates every activation at once (see [`at_once`]).
async fn create_at_once(
    s: &Arc<PgStore>,
    news: Vec<NewActivation>,
) -> Vec<Result<CreateOutcome, StoreError>> {
    at_once(s, news, |s, n| async move { s.create_activation(n).await }).await
}

#[tokio::test]
async fn advances_arriving_together_commit_in_one_group_each_applied() {
    let pg = server();
    let s = shared(&pg, "groups").await;
    let mut created = Vec::new();
    for i in 1..=9 {
        created.push(create(&s, &format!("k{i}"), &format!("act_{i}"), Some(i)).await);
    }
    let advances = created
        .iter()
        .map(|o| (next(o, OrderStatus::Active, 1_000), Effect::Activate))
        .collect();
    let results = advance_at_once(&s, advances).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let groups = &s.retry_stats().advance_groups;
    assert!(
        groups.committed.load(Relaxed) >= 1 && groups.writes.load(Relaxed) >= 2,
        "advances were committed together: {groups:?}"
    );
    assert_eq!(groups.split.load(Relaxed), 0);
    for (i, o) in (1..=9).zip(&created) {
        let stored = s
            .get_order("acme", &o.id)
            .await
            .expect("get")
            .expect("order");
        assert_eq!((stored.status, stored.version), (OrderStatus::Active, 2));
        let sim = s.get_sim(&iccid(i)).await.expect("sim").expect("sim");
        assert_eq!(
            sim.state,
            SimState::Active {
                order: o.id.clone()
            }
        );
        let line = s
            .subscription("acme", o.msisdn.as_str())
            .await
            .expect("line");
        assert_eq!(line.map(|l| l.iccid), Some(iccid(i)), "line of {}", o.id);
    }
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.sims_active), (0, 9));
    assert!(s.inflight_orders().await.expect("inflight").is_empty());
}

#[tokio::test]
async fn a_stale_advance_fails_alone_and_the_rest_of_its_group_commits() {
    let pg = server();
    let s = shared(&pg, "group_split").await;
    let mut created = Vec::new();
    for i in 1..=12 {
        created.push(create(&s, &format!("k{i}"), &format!("act_{i}"), Some(i)).await);
    }
    // The first ones run alone while the others queue; the last is two versions ahead of
    // the stored one (a writer that lost the order), so the group it is in fails.
    let advances = created
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut n = next(o, OrderStatus::Active, 1_000);
            if i == 11 {
                n.version += 1;
            }
            (n, Effect::Activate)
        })
        .collect();
    let results = advance_at_once(&s, advances).await;
    for (i, r) in results.iter().enumerate() {
        if i == 11 {
            assert!(
                matches!(r, Err(StoreError::Conflict(id)) if id == "act_12"),
                "{r:?}"
            );
        } else {
            assert!(r.is_ok(), "advance {i}: {r:?}");
        }
    }
    assert!(
        s.retry_stats().advance_groups.split.load(Relaxed) >= 1,
        "the group met the conflict and was split"
    );
    let stale = s
        .get_order("acme", "act_12")
        .await
        .expect("get")
        .expect("order");
    assert_eq!((stale.status, stale.version), (OrderStatus::Reserved, 1));
    let sim = s.get_sim(&iccid(12)).await.expect("sim").expect("sim");
    assert_eq!(
        sim.state,
        SimState::Reserved {
            order: "act_12".into()
        }
    );
    for i in 1..=11 {
        let o = s
            .get_order("acme", &format!("act_{i}"))
            .await
            .expect("get")
            .expect("order");
        assert_eq!(o.status, OrderStatus::Active);
    }
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.sims_active), (1, 11));
}

#[tokio::test]
async fn sales_arriving_together_commit_in_groups_each_with_a_number_of_its_own() {
    let pg = server();
    let s = shared(&pg, "create_groups").await;
    let news = sales(1..=16);
    let outcomes = create_at_once(&s, news).await;
    let mut numbers = std::collections::BTreeSet::new();
    for (i, out) in (1..=16).zip(&outcomes) {
        let Ok(CreateOutcome::Created(o)) = out else {
            panic!("sale {i}: {out:?}");
        };
        assert_eq!(o.iccid, iccid(i));
        assert!(numbers.insert(o.msisdn.clone()), "{} given twice", o.msisdn);
        let stored = s.get_order("acme", &o.id).await.expect("get");
        assert_eq!(stored.as_ref(), Some(o), "durable as answered");
    }
    let groups = &s.retry_stats().create_groups;
    assert!(
        groups.committed.load(Relaxed) >= 1 && groups.writes.load(Relaxed) >= 2,
        "sales were committed together: {groups:?}"
    );
    assert_eq!(groups.split.load(Relaxed), 0);
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.numbers_available), (16, 14));
}

#[tokio::test]
async fn a_refused_sale_splits_its_group_and_the_others_are_created() {
    let pg = server();
    let s = shared(&pg, "create_split").await;
    // Four run alone while the rest queue; in the queue one sale names a card nobody
    // stocked, and two name card 9: they never share a group, and the card goes to one.
    let mut news = sales(1..=10);
    news.push(activation("k_ghost", "act_ghost", Some(99)));
    news.push(activation("k_twice", "act_twice", Some(9)));
    let outcomes = create_at_once(&s, news).await;
    let created = |out: &Result<CreateOutcome, StoreError>, card: u32| matches!(out, Ok(CreateOutcome::Created(o)) if o.iccid == iccid(card));
    for (i, out) in (1..=8).chain([10]).map(|i| (i, &outcomes[i as usize - 1])) {
        assert!(created(out, i), "sale {i}: {out:?}");
    }
    assert!(
        matches!(
            &outcomes[10],
            Ok(CreateOutcome::Rejected(Rejection::UnknownIccid))
        ),
        "{:?}",
        outcomes[10]
    );
    let (nine, twice) = (&outcomes[8], &outcomes[11]);
    let taken = |out: &Result<CreateOutcome, StoreError>| {
        matches!(
            out,
            Ok(CreateOutcome::Rejected(Rejection::SimNotAvailable { .. }))
        )
    };
    assert!(
        (created(nine, 9) && taken(twice)) || (taken(nine) && created(twice, 9)),
        "card 9 to exactly one: {nine:?} {twice:?}"
    );
    assert!(
        s.retry_stats().create_groups.split.load(Relaxed) >= 1,
        "the refusal split its group"
    );
    assert_eq!(s.get_order("acme", "act_ghost").await.expect("get"), None);
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.numbers_available), (10, 20));
}

#[tokio::test]
async fn sales_picking_at_random_in_one_group_never_share_a_number() {
    let pg = server();
    let s = shared(&pg, "create_random").await;
    let random = AdminChange::PutTenant(acme(NumberPolicy::Random));
    assert_eq!(
        s.admin(random).await.expect("tenant"),
        AdminOutcome::Applied
    );
    // Starts drawn close together, so that the group's picks aim at the same numbers.
    let mut news = sales(1..=16);
    for (n, i) in news.iter_mut().zip(0u64..) {
        n.random = i % 3;
    }
    let outcomes = create_at_once(&s, news).await;
    let mut numbers = std::collections::BTreeSet::new();
    for (i, out) in (1..=16).zip(&outcomes) {
        let Ok(CreateOutcome::Created(o)) = out else {
            panic!("sale {i}: {out:?}");
        };
        assert!(numbers.insert(o.msisdn.clone()), "{} given twice", o.msisdn);
        let stored = s.get_order("acme", &o.id).await.expect("get");
        assert_eq!(stored.as_ref(), Some(o), "durable as answered");
    }
    let groups = &s.retry_stats().create_groups;
    assert!(groups.committed.load(Relaxed) >= 1, "{groups:?}");
    assert_eq!(groups.split.load(Relaxed), 0);
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.numbers_available), (16, 14));
}

#[tokio::test]
async fn a_key_sent_again_in_a_group_gets_its_first_answer_and_the_others_are_created() {
    let pg = server();
    let s = shared(&pg, "create_replay").await;
    let first = match s
        .create_activation(activation("k_again", "act_first", Some(20)))
        .await
    {
        Ok(CreateOutcome::Created(o)) => o,
        other => panic!("{other:?}"),
    };
    // The first sales take the turns; the key sent again queues behind them, in a group.
    // It names a card still free (the body hash is the key's), so only the key stops it.
    let mut news = sales(1..=9);
    news.push(activation("k_again", "act_again", Some(10)));
    let outcomes = create_at_once(&s, news).await;
    for (i, out) in (1..=9).zip(&outcomes) {
        assert!(
            matches!(out, Ok(CreateOutcome::Created(o)) if o.iccid == iccid(i)),
            "sale {i}: {out:?}"
        );
    }
    assert!(
        matches!(&outcomes[9], Ok(CreateOutcome::Replayed(o)) if *o == first),
        "{:?}",
        outcomes[9]
    );
    assert_eq!(s.get_order("acme", "act_again").await.expect("get"), None);
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.numbers_available), (10, 20));
}

#[tokio::test]
async fn sales_with_checks_that_read_no_counter_are_decided_and_audited_each_in_a_group() {
    use gateway::compliance::audit::Actor;
    use gateway::compliance::checks::SimKind;
    use gateway::compliance::{ChannelRef, Policy};
    let pg = server();
    let s = shared(&pg, "create_checked").await;
    let policy = Arc::new(Policy::sandbox());
    let news = (1..=12)
        .map(|i| {
            let mut n = activation(&format!("k{i}"), &format!("act_{i}"), Some(i));
            n.compliance = Some(gateway::store::ComplianceCheck {
                policy: Arc::clone(&policy),
                enterprise: "acme".into(),
                subscriber: None,
                invalid: None,
                channel: ChannelRef::Online,
                sim: SimKind::Physical,
                imei: None,
                handset: None,
                id_hashes: Default::default(),
                actor: Actor {
                    key_id: "sk_test".into(),
                    channel: "online".into(),
                    store: None,
                    clerk: None,
                    device: None,
                },
                evidence: Vec::new(),
                verified: None,
            });
            n
        })
        .collect();
    let outcomes = create_at_once(&s, news).await;
    for (i, out) in (1..=12).zip(&outcomes) {
        assert!(
            matches!(out, Ok(CreateOutcome::Created(o)) if o.compliance.is_some()),
            "sale {i}: {out:?}"
        );
    }
    let groups = &s.retry_stats().create_groups;
    assert!(
        groups.committed.load(Relaxed) >= 1 && groups.writes.load(Relaxed) >= 2,
        "{groups:?}"
    );
    assert_eq!(groups.split.load(Relaxed), 0);
    let records = super::compliance::chain(&s).await;
    let created: Vec<_> = records
        .iter()
        .filter(|r| r.action == "activation.create")
        .collect();
    assert_eq!(created.len(), 12, "one audit record per sale");
}
