//! create_activation and advance_order: what one commit reserves and records, replays
//! and refusals that change nothing, races between tasks (one SIM, one key), the version
//! check, and the effects of activation and release.

use super::*;
use gateway::store::{Rejection, StoreError};

#[tokio::test]
async fn an_activation_reserves_card_and_number_in_one_commit_and_replays() {
    let pg = server();
    let (s, _) = store(&pg, "create").await;
    let o = create(&s, "k1", "act_1", Some(1)).await;
    assert_eq!((o.status, o.version), (OrderStatus::Reserved, 1));
    assert_eq!(o.msisdn, msisdn(0), "lowest free number first");
    let sim = s.get_sim(&iccid(1)).await.expect("sim").expect("exists");
    assert_eq!(
        sim.state,
        SimState::Reserved {
            order: "act_1".into()
        }
    );
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_available, c.sims_reserved), (29, 1));
    assert_eq!(c.numbers_available, 29);
    // Leased to the node that created it, for the lease time from the request's now.
    let owner: Option<String> = order_column(&s, "act_1", "lease_owner").await;
    let until: Option<i64> = order_column(&s, "act_1", "lease_until_ms").await;
    assert_eq!(owner.as_deref(), Some("a"));
    assert_eq!(until, Some((T0 + LEASE.as_millis() as u64) as i64));
    // Tenant-scoped reads; in flight.
    assert_eq!(
        s.get_order("acme", "act_1").await.expect("get"),
        Some(o.clone())
    );
    assert_eq!(s.get_order("other", "act_1").await.expect("get"), None);
    let inflight = s.inflight_orders().await.expect("inflight");
    assert_eq!(
        inflight.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["act_1"]
    );
    // The same key and body: the first answer; another body: refused; nothing new.
    match s
        .create_activation(activation("k1", "act_2", Some(1)))
        .await
    {
        Ok(CreateOutcome::Replayed(r)) => assert_eq!(r, o),
        other => panic!("{other:?}"),
    }
    let mut reused = activation("k1", "act_3", Some(2));
    reused.body_hash = "another".into();
    assert!(matches!(
        s.create_activation(reused).await,
        Ok(CreateOutcome::KeyReused)
    ));
    assert_eq!(count(&s, "SELECT COUNT(*) FROM orders").await, 1);
    // The creation is in the audit log and the public log once numbered.
    s.flush_events().await.expect("flush");
    let events = s.events(0, 100).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.order_id.as_deref() == Some("act_1") && e.kind == EventKind::OrderCreated)
    );
    let public = s.public_events("acme", 0, None, 100).await.expect("public");
    assert!(public.iter().any(|e| e.data["id"] == "act_1"));
}

#[tokio::test]
async fn refusals_change_nothing() {
    let pg = server();
    let (s, _) = store(&pg, "refusals").await;
    let before = s.inventory_counts("acme").await.expect("counts");
    let refused = |o: Result<CreateOutcome, StoreError>| match o {
        Ok(CreateOutcome::Rejected(r)) => r,
        other => panic!("{other:?}"),
    };
    let r = refused(
        s.create_activation(activation("k1", "act_1", Some(99)))
            .await,
    );
    assert_eq!(r, Rejection::UnknownIccid);
    let r = refused(
        s.create_activation(activation("k2", "act_2", Some(100)))
            .await,
    );
    assert_eq!(r, Rejection::SimIsEsim);
    let mut foreign = activation("k3", "act_3", Some(1));
    foreign.tenant = "other".into();
    assert_eq!(
        refused(s.create_activation(foreign).await),
        Rejection::SimOfOtherTenant
    );
    let mut product = activation("k4", "act_4", Some(1));
    product.product = "nope".into();
    assert_eq!(
        refused(s.create_activation(product).await),
        Rejection::UnknownProduct
    );
    let mut chosen = activation("k5", "act_5", Some(1));
    chosen.number = NumberChoice::Choose("4679999999".parse().expect("m"));
    assert_eq!(
        refused(s.create_activation(chosen).await),
        Rejection::NumberNotInPool
    );
    let mut res = activation("k6", "act_6", Some(1));
    res.number = NumberChoice::Reservation("nres_missing".into());
    assert_eq!(
        refused(s.create_activation(res).await),
        Rejection::ReservationNotFound
    );
    assert_eq!(s.inventory_counts("acme").await.expect("counts"), before);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM idempotency").await, 0);
    // The card's second order is refused with its state.
    create(&s, "k7", "act_7", Some(1)).await;
    let r = refused(
        s.create_activation(activation("k8", "act_8", Some(1)))
            .await,
    );
    assert_eq!(r, Rejection::SimNotAvailable { state: "reserved" });
}

#[tokio::test]
async fn two_tasks_activating_one_sim_at_once_one_wins() {
    let pg = server();
    let (s, url) = store(&pg, "race_sim").await;
    let b = node(&url, "b").await;
    // Eight requests for card 3 under different keys, spread over two nodes.
    let (s, b) = (std::sync::Arc::new(s), std::sync::Arc::new(b));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let st = if i % 2 == 0 { s.clone() } else { b.clone() };
            tokio::spawn(async move {
                st.create_activation(activation(&format!("k{i}"), &format!("act_{i}"), Some(3)))
                    .await
            })
        })
        .collect();
    let mut created = Vec::new();
    for t in tasks {
        match t.await.expect("task").expect("store") {
            CreateOutcome::Created(o) => created.push(o),
            CreateOutcome::Rejected(Rejection::SimNotAvailable { state: "reserved" }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one order holds the card");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM orders").await, 1);
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.numbers_available), (1, 29));
    let held = count(&s, "SELECT COUNT(*) FROM numbers WHERE state = 'reserved'").await;
    assert_eq!(held, 1, "the losers' numbers were never taken");
}

#[tokio::test]
async fn one_idempotency_key_from_two_tasks_at_once_is_one_order() {
    let pg = server();
    let (s, url) = store(&pg, "race_key").await;
    let b = node(&url, "b").await;
    // eSIM orders: each would get its own profile and number, but for the key.
    let (s, b) = (std::sync::Arc::new(s), std::sync::Arc::new(b));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let st = if i % 2 == 0 { s.clone() } else { b.clone() };
            tokio::spawn(async move {
                st.create_activation(activation("same", &format!("act_{i}"), None))
                    .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        match t.await.expect("task").expect("store") {
            CreateOutcome::Created(o) | CreateOutcome::Replayed(o) => ids.push(o.id),
            other => panic!("{other:?}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer names one order: {ids:?}");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM orders").await, 1);
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!((c.sims_reserved, c.numbers_available), (1, 29));
}

#[tokio::test]
async fn advancing_checks_the_version_and_applies_the_effect() {
    let pg = server();
    let (s, url) = store(&pg, "advance").await;
    let o = create(&s, "k1", "act_1", Some(1)).await;
    let provisioning = advance(&s, &o, OrderStatus::HlrProvisioning, Effect::None).await;
    // A writer still at version 1 (another node that lost the order) is refused, and so
    // is an order that does not exist; nothing of either is written.
    let b = node(&url, "b").await;
    let stale = next(&o, OrderStatus::Failed, 5);
    let e = b
        .advance_order(stale, Effect::Release, EventKind::OrderActive)
        .await
        .expect_err("stale");
    assert!(
        matches!(e, StoreError::Conflict(ref id) if id == "act_1"),
        "{e}"
    );
    let mut ghost = next(&o, OrderStatus::Active, 5);
    ghost.id = "act_ghost".into();
    let e = s
        .advance_order(ghost, Effect::Activate, EventKind::OrderActive)
        .await
        .expect_err("ghost");
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    assert_eq!(
        s.get_order("acme", "act_1").await.expect("get"),
        Some(provisioning.clone())
    );
    // Active: card and number assigned, the line opened, no longer in flight.
    let active = advance(&s, &provisioning, OrderStatus::Active, Effect::Activate).await;
    assert!(
        order_column::<String>(&s, "act_1", "id").await.is_none(),
        "out of flight"
    );
    let sim = s.get_sim(&iccid(1)).await.expect("sim").expect("sim");
    assert_eq!(
        sim.state,
        SimState::Active {
            order: "act_1".into()
        }
    );
    let line = s
        .subscription("acme", active.msisdn.as_str())
        .await
        .expect("line")
        .expect("opened");
    assert_eq!((line.id.as_str(), line.iccid.clone()), ("sub_1", iccid(1)));
    assert_eq!(line.history.len(), 1);
    assert_eq!(
        s.subscription("other", active.msisdn.as_str())
            .await
            .expect("r"),
        None
    );
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!(
        (c.sims_reserved, c.sims_active, c.numbers_available),
        (0, 1, 29)
    );
    // Release of another order: card and number back in stock.
    let o2 = create(&s, "k2", "act_2", Some(2)).await;
    let failed = advance(&s, &o2, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(failed.msisdn, msisdn(1));
    let sim2 = s.get_sim(&iccid(2)).await.expect("sim").expect("sim");
    assert_eq!(sim2.state, SimState::Available);
    let n: String = s
        .client()
        .await
        .expect("c")
        .query_one(
            "SELECT state FROM numbers WHERE msisdn = $1",
            &[&msisdn(1).as_str()],
        )
        .await
        .expect("n")
        .get(0);
    assert_eq!(n, "available");
    let c = s.inventory_counts("acme").await.expect("counts");
    assert_eq!(
        (c.sims_available, c.sims_active, c.numbers_available),
        (29, 1, 29)
    );
    assert!(s.inflight_orders().await.expect("inflight").is_empty());
}

/// Statements sent in transactions since `before` (`simgw_store_statements_total`).
fn statements_since(s: &PgStore, before: u64) -> u64 {
    s.retry_stats()
        .statements
        .load(std::sync::atomic::Ordering::Relaxed)
        - before
}

#[tokio::test]
async fn a_physical_activation_takes_at_most_sixteen_statements() {
    // What a physical activation costs the database, BEGIN and COMMIT included: the
    // create (key, tenant, card and the free list's ends in one statement, number pick,
    // SIM and number writes, the order with its in-flight row and key record, the
    // deferred counters and logs) and the
    // answer's commit (order, SIM and number read together, SIM, number and line
    // writes, the order's rewrite, counters and logs). More statements here cost
    // throughput on PostgreSQL (README, Benchmarks).
    let pg = server();
    let (s, _) = store(&pg, "statements").await;
    let start = s
        .retry_stats()
        .statements
        .load(std::sync::atomic::Ordering::Relaxed);
    let o = create(&s, "k1", "act_1", Some(1)).await;
    let created = statements_since(&s, start);
    let start = start + created;
    advance(&s, &o, OrderStatus::Active, Effect::Activate).await;
    let answered = statements_since(&s, start);
    assert!(created <= 8, "create: {created} statements");
    assert!(answered <= 8, "answer: {answered} statements");
    assert_eq!(
        s.retry_stats()
            .retried
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "no transaction ran twice"
    );
}
